using TorchSharp;
using static TorchSharp.torch;

namespace TiDAR.Trainer.Model;

/// <summary>
/// The TiDAR loss (DESIGN.md section 1) on a batch of clean windows [B, S+1]: input [t_0..t_{S-1} | M x S],
/// clean row i predicts t_{i+1} (AR CE; the window's extra token gives row S-1 its target), mask row i
/// predicts t_i (diffusion CE). L = (alpha * mean CE_AR + mean CE_Diff) / (1 + alpha). One shared head.
/// </summary>
public sealed class TidarObjective
{
    private readonly Dictionary<(int S, int K), Tensor> _masks = new();
    private readonly Dictionary<int, Tensor> _positions = new();
    public int MaskTokenId { get; }
    public double Alpha { get; }

    public TidarObjective(int maskTokenId, double alpha = 1.0)
    {
        MaskTokenId = maskTokenId;
        Alpha = alpha;
    }

    /// <summary>The [2S, 2S] attention mask (true = may attend), cached per (S, k).</summary>
    public Tensor Mask(int s, int k)
    {
        if (!_masks.TryGetValue((s, k), out var m))
        {
            var dense = TidarTrainingMask.Dense(s, k);
            var flat = new bool[4 * s * s];
            for (int r = 0; r < 2 * s; r++) for (int c = 0; c < 2 * s; c++) flat[r * 2 * s + c] = dense[r, c];
            m = tensor(flat, [2L * s, 2L * s]);
            m.DetachFromDisposeScope();
            _masks[(s, k)] = m;
        }
        return m;
    }

    public Tensor Positions(int s)
    {
        if (!_positions.TryGetValue(s, out var p))
        {
            p = tensor(TidarTrainingMask.Positions(s));
            p.DetachFromDisposeScope();
            _positions[s] = p;
        }
        return p;
    }

    /// <summary>The doubled input [B, 2S] for clean windows [B, S+1].</summary>
    public Tensor Input(Tensor windows)
    {
        long b = windows.shape[0], s = windows.shape[1] - 1;
        return cat([windows.narrow(1, 0, s), full(b, s, MaskTokenId, dtype: ScalarType.Int64)], 1);
    }

    /// <summary>Returns (loss, AR CE, diffusion CE) for clean windows [B, S+1] (int64) at block size k.</summary>
    public (Tensor Loss, Tensor Ar, Tensor Diff) Compute(TidarTransformer model, Tensor windows, int k)
    {
        long b = windows.shape[0];
        int s = (int)windows.shape[1] - 1;
        var logits = model.forward(Input(windows), Positions(s), Mask(s, k)); // [B, 2S, V]
        long v = logits.shape[2];
        var arLogits = logits.narrow(1, 0, s).reshape(b * s, v);
        var diffLogits = logits.narrow(1, s, s).reshape(b * s, v);
        var arTargets = windows.narrow(1, 1, s).reshape(b * s);
        var diffTargets = windows.narrow(1, 0, s).reshape(b * s);
        var ar = nn.functional.cross_entropy(arLogits, arTargets);
        var diff = nn.functional.cross_entropy(diffLogits, diffTargets);
        var loss = (ar * Alpha + diff) / (1.0 + Alpha);
        return (loss, ar, diff);
    }
}
