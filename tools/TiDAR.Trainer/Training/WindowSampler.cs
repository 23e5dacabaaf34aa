using static TorchSharp.torch;

namespace TiDAR.Trainer.Training;

/// <summary>
/// Random windows of S+1 tokens from the token stream. The batch for step n depends only on (seed, n),
/// so a resumed run sees exactly the batches the uninterrupted run would have seen.
/// </summary>
public sealed class WindowSampler(ushort[] tokens, int seqLen, int seed)
{
    public Tensor Batch(int step, int batch)
    {
        var rng = new Random(unchecked(seed * 1_000_003 + step)); // deterministic across processes (HashCode is not)
        var data = new long[batch * (seqLen + 1)];
        for (int b = 0; b < batch; b++)
        {
            int start = rng.Next(0, tokens.Length - seqLen - 1);
            for (int i = 0; i <= seqLen; i++) data[b * (seqLen + 1) + i] = tokens[start + i];
        }
        return tensor(data, [batch, seqLen + 1]);
    }

    /// <summary>n evenly spaced windows (the fixed validation set).</summary>
    public static Tensor Evenly(ushort[] tokens, int seqLen, int n)
    {
        var data = new long[n * (seqLen + 1)];
        long stride = (tokens.Length - seqLen - 1) / n;
        for (int w = 0; w < n; w++)
            for (int i = 0; i <= seqLen; i++) data[w * (seqLen + 1) + i] = tokens[w * stride + i];
        return tensor(data, [n, seqLen + 1]);
    }
}
