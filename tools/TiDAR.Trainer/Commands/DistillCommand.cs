using TiDAR.Trainer.Tokenizer;
using TiDAR.Trainer.Training;

namespace TiDAR.Trainer.Commands;

/// <summary>`distill`: self-distillation of the drafts from a trained run into a new run folder (see SelfDistiller).</summary>
public static class DistillCommand
{
    public static int Run(Args a)
    {
        string from = a.Req("from");
        string run = a.Req("run");
        string corpus = a.Str("corpus", "data/corpus")!;
        string tokDir = a.Str("tokenizer", "data/tokenizer")!;
        double minutes = a.Dbl("minutes", 15);
        double lr = a.Dbl("lr", 5e-4);
        int genBatch = a.Int("gen-batch", 60);
        int promptTokens = a.Int("prompt-tokens", 32);
        int threads = a.Int("threads", 0);
        a.RejectUnknown();
        var o = TrainOptions.FromJson(File.ReadAllText(Path.Combine(from, "run.json")));
        if (threads > 0) o = o with { Threads = threads };
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "run.json"), o.ToJson());
        foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json" }) File.Copy(Path.Combine(from, f), Path.Combine(run, f), true);
        var bpe = ByteLevelBpe.Load(Path.Combine(from, "tokenizer.json"));
        var train = TokenCorpus.LoadOrEncode(bpe, Path.Combine(corpus, "train.txt"), Path.Combine(tokDir, "train.u16"), Console.WriteLine);
        var valid = TokenCorpus.LoadOrEncode(bpe, Path.Combine(corpus, "valid.txt"), Path.Combine(tokDir, "valid.u16"), Console.WriteLine);
        void Log(string m) => Console.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {m}");
        var trainer = new TidarTrainer(o, run, train, valid, Log);
        Checkpoint.LoadWeights(Path.Combine(from, "checkpoint", "model.bin"), trainer.Model);
        var (va, v4, v8) = trainer.Evaluate();
        Log($"start: val AR {va:F4} (ppl {Math.Exp(va):F1}), val diff k4 {v4:F4}, k8 {v8:F4}");
        new SelfDistiller(o, trainer, train, run, Log) { Minutes = minutes, Lr = lr, GenerateBatch = genBatch, PromptTokens = promptTokens }.Run();
        try { PlotCommand.Plot(run); } catch (Exception e) { Console.WriteLine($"plot failed: {e.Message}"); }
        return 0;
    }
}
