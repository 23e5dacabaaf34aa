using System.Globalization;
using TiDAR.Trainer.Model;
using TiDAR.Trainer.Training;
using static TorchSharp.torch;

namespace TiDAR.Trainer.Commands;

/// <summary>
/// `eval`: AR and diffusion (k = 4, 8) cross-entropy of a checkpoint on the held-out set, over
/// non-overlapping windows of S+1 tokens (--windows N spreads N of them evenly; default: all).
/// </summary>
public static class EvalCommand
{
    public static int Run(Args a)
    {
        string run = a.Req("run");
        string checkpoint = a.Str("checkpoint", Path.Combine(run, "checkpoint", "model.bin"))!;
        string tokDir = a.Str("tokenizer", "data/tokenizer")!;
        int windows = a.Int("windows", 0);
        a.RejectUnknown();
        var o = TrainOptions.FromJson(File.ReadAllText(Path.Combine(run, "run.json")));
        set_num_threads(o.Threads);
        var model = new TidarTransformer(o.Model);
        Checkpoint.LoadWeights(checkpoint, model);
        model.eval();
        var validBytes = File.ReadAllBytes(Path.Combine(tokDir, "valid.u16"));
        var valid = new ushort[validBytes.Length / 2];
        Buffer.BlockCopy(validBytes, 0, valid, 0, validBytes.Length);
        int s = o.SeqLen, all = (valid.Length - 1) / s;
        int n = windows > 0 ? Math.Min(windows, all) : all;
        var objective = new TidarObjective(o.Model.MaskTokenId, o.Alpha);
        double ar = 0, d4 = 0, d8 = 0;
        using var _ = no_grad();
        for (int i0 = 0; i0 < n; i0 += 16)
        {
            using var scope = NewDisposeScope();
            int b = Math.Min(16, n - i0);
            var data = new long[b * (s + 1)];
            for (int w = 0; w < b; w++)
            {
                long start = (long)(i0 + w) * all / n * s;
                for (int j = 0; j <= s; j++) data[w * (s + 1) + j] = valid[start + j];
            }
            var batch = tensor(data, [b, s + 1]);
            var r4 = objective.Compute(model, batch, 4);
            var r8 = objective.Compute(model, batch, 8);
            ar += r4.Ar.item<float>() * b; d4 += r4.Diff.item<float>() * b; d8 += r8.Diff.item<float>() * b;
        }
        ar /= n; d4 /= n; d8 /= n;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{checkpoint}: {n} held-out windows x {s} tokens ({(long)n * s:N0} tokens): AR CE {ar:F4} (perplexity {Math.Exp(ar):F2}), diffusion CE k=4 {d4:F4}, k=8 {d8:F4}"));
        return 0;
    }
}
