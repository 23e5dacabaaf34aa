using System.Globalization;
using TiDAR.Trainer.Evaluation;
using TiDAR.Trainer.Model;
using TiDAR.Trainer.Tokenizer;
using TiDAR.Trainer.Training;

namespace TiDAR.Trainer.Commands;

/// <summary>
/// `simulate`: tokens per forward of exact greedy TiDAR on a TorchSharp checkpoint (no export, no GPU),
/// same prompts as `measure`; for quick checks during training. Also checks the output equals greedy AR.
/// </summary>
public static class SimulateCommand
{
    public static int Run(Args a)
    {
        string run = a.Req("run");
        string checkpoint = a.Str("checkpoint", Path.Combine(run, "checkpoint", "model.bin"))!;
        string corpus = a.Str("corpus", "data/corpus")!;
        int prompts = a.Int("prompts", 20), promptTokens = a.Int("prompt-tokens", 32), newTokens = a.Int("new", 128);
        var ks = (a.Str("k") ?? "4,8").Split(',').Select(int.Parse).ToArray();
        int show = a.Int("show", 0);
        int threads = a.Int("threads", 0);
        a.RejectUnknown();
        var o = TrainOptions.FromJson(File.ReadAllText(Path.Combine(run, "run.json")));
        TorchSharp.torch.set_num_threads(threads > 0 ? threads : o.Threads);
        var model = new TidarTransformer(o.Model);
        Checkpoint.LoadWeights(checkpoint, model);
        model.eval();
        var bpe = ByteLevelBpe.Load(Path.Combine(run, "tokenizer.json"));
        var promptIds = HeldOutPrompts(bpe, Path.Combine(corpus, "valid.txt"), prompts, promptTokens);
        var ar = promptIds.Select(p => TidarSimulator.GreedyAr(model, p, newTokens)).ToList();
        for (int i = 0; i < show; i++) Console.WriteLine($"--- {bpe.Decode(promptIds[i])}\n+++ {bpe.Decode(ar[i])}\n");
        foreach (int k in ks)
        {
            long gen = 0, fw = 0; int same = 0;
            for (int i = 0; i < prompts; i++)
            {
                var r = TidarSimulator.Generate(model, promptIds[i], k, newTokens);
                gen += r.Tokens.Length; fw += r.Forwards;
                if (r.Tokens.SequenceEqual(ar[i])) same++;
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"k={k}: {gen} tokens / {fw} forwards = {(double)gen / fw:F3} tokens/forward; identical to greedy AR {same}/{prompts}"));
        }
        return 0;
    }

    /// <summary>The first n tokens of held-out documents spread evenly over valid.txt (those long enough).</summary>
    public static List<int[]> HeldOutPrompts(ByteLevelBpe bpe, string validPath, int prompts, int promptTokens)
    {
        var candidates = TokenCorpus.ReadDocuments(validPath).Select(bpe.Encode).Where(ids => ids.Length >= promptTokens + 16).ToList();
        return Enumerable.Range(0, prompts).Select(i => candidates[(int)((long)i * candidates.Count / prompts)][..promptTokens]).ToList();
    }
}
