using TiDAR.Trainer.Model;
using TiDAR.Trainer.Tokenizer;
using TiDAR.Trainer.Training;

namespace TiDAR.Trainer.Commands;

public static class TrainCommand
{
    public static int Run(Args a)
    {
        string run = a.Req("run");
        bool resume = a.Flag("resume");
        string runJson = Path.Combine(run, "run.json");
        TrainOptions o;
        string tokDir = a.Str("tokenizer", "data/tokenizer")!;
        string corpus = a.Str("corpus", "data/corpus")!;
        double maxMinutes = a.Dbl("max-minutes", 0);
        var bpe = ByteLevelBpe.Load(Path.Combine(tokDir, "tokenizer.json"));
        if (resume && File.Exists(runJson))
        {
            o = TrainOptions.FromJson(File.ReadAllText(runJson));
            // Allow extending a finished run: --steps N raises the target (the cosine restarts its tail).
            if (a.Str("steps") is { } s) o = o with { Steps = int.Parse(s) };
        }
        else
        {
            var m = new TidarConfig
            {
                VocabSize = bpe.VocabSize,
                Dim = a.Int("dim", 256),
                Layers = a.Int("layers", 6),
                Heads = a.Int("heads", 4),
                KvHeads = a.Int("kv-heads", 2),
                HeadDim = a.Int("head-dim", 64),
                FfnDim = a.Int("ffn", 768),
                MaskTokenId = bpe.MaskId,
                EosTokenId = bpe.EndOfTextId,
                BlockSize = a.Int("block-size", 4),
            };
            o = new TrainOptions
            {
                Model = m,
                SeqLen = a.Int("seq", 128),
                Batch = a.Int("batch", 16),
                Steps = a.Int("steps", 2000),
                BlockSizes = (a.Str("block-sizes") ?? m.BlockSize.ToString()).Split(',').Select(int.Parse).ToArray(),
                Lr = a.Dbl("lr", 2e-3),
                WarmupSteps = a.Int("warmup", 100),
                WeightDecay = a.Dbl("weight-decay", 0.1),
                GradClip = a.Dbl("clip", 1.0),
                Alpha = a.Dbl("alpha", 1.0),
                EvalEvery = a.Int("eval-every", 100),
                EvalWindows = a.Int("eval-windows", 32),
                CheckpointEvery = a.Int("checkpoint-every", 100),
                Seed = a.Int("seed", 1234),
                Threads = a.Int("threads", 2),
                TimeBudgetMinutes = a.Dbl("time-budget-minutes", 0),
            };
            foreach (int k in o.BlockSizes)
                if (o.SeqLen % k != 0) throw new ArgumentException($"--seq {o.SeqLen} is not a multiple of block size {k}");
        }
        a.RejectUnknown();
        Directory.CreateDirectory(run);
        File.WriteAllText(runJson, o.ToJson());
        File.Copy(Path.Combine(tokDir, "tokenizer.json"), Path.Combine(run, "tokenizer.json"), true);
        File.Copy(Path.Combine(tokDir, "tokenizer_config.json"), Path.Combine(run, "tokenizer_config.json"), true);
        var train = TokenCorpus.LoadOrEncode(bpe, Path.Combine(corpus, "train.txt"), Path.Combine(tokDir, "train.u16"), Console.WriteLine);
        var valid = TokenCorpus.LoadOrEncode(bpe, Path.Combine(corpus, "valid.txt"), Path.Combine(tokDir, "valid.u16"), Console.WriteLine);
        Console.WriteLine($"train {train.Length:N0} tokens, valid {valid.Length:N0} tokens");
        var trainer = new TidarTrainer(o, run, train, valid, m => Console.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {m}"));
        trainer.Run(resume, maxMinutes);
        try { PlotCommand.Plot(run); } catch (Exception e) { Console.WriteLine($"plot failed: {e.Message}"); }
        return 0;
    }
}
