using System.Numerics.Tensors;
using TiDAR.Engine.Kernels;

namespace TiDAR.Engine.Reference;

/// <summary>
/// Plain C# versions of every GPU op, written for clarity rather than speed: the independent answer
/// the tests and `tidar check` compare the shaders against. Shapes match <see cref="Kernels.Kernels"/>.
/// Attention deliberately uses the textbook two-pass softmax, not the shader's online form.
/// </summary>
public static class ReferenceOps
{
    /// <summary>out [ids.Length, dim] = table [vocab, dim][ids].</summary>
    public static float[] Embedding(ReadOnlySpan<float> table, int dim, ReadOnlySpan<uint> ids)
    {
        var output = new float[ids.Length * dim];
        for (int r = 0; r < ids.Length; r++)
            table.Slice(checked((int)ids[r] * dim), dim).CopyTo(output.AsSpan(r * dim, dim));
        return output;
    }

    /// <summary>out [rows, cols] = x / sqrt(mean(x^2) + eps) * w.</summary>
    public static float[] RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> w, int rows, int cols, float eps)
    {
        var output = new float[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * cols, cols);
            double ss = 0;
            foreach (var v in row) ss += (double)v * v;
            float scale = (float)(1.0 / Math.Sqrt(ss / cols + eps));
            var o = output.AsSpan(r * cols, cols);
            TensorPrimitives.Multiply(row, scale, o);
            TensorPrimitives.Multiply(o, w, o);
        }
        return output;
    }

    /// <summary>y [m, n] = x [m, k] * w [n, k]^T.</summary>
    public static float[] MatMul(ReadOnlySpan<float> x, ReadOnlySpan<float> w, int m, int n, int k)
    {
        var y = new float[m * n];
        for (int i = 0; i < m; i++)
        {
            var xi = x.Slice(i * k, k);
            for (int j = 0; j < n; j++) y[i * n + j] = TensorPrimitives.Dot(xi, w.Slice(j * k, k));
        }
        return y;
    }

    /// <summary>Values as the GPU sees them after an fp16 upload: each rounded to the nearest half.</summary>
    public static float[] RoundToHalf(ReadOnlySpan<float> values)
    {
        var h = WeightMatrix.ToHalf(values);
        var f = new float[h.Length];
        TensorPrimitives.ConvertToSingle(h, f);
        return f;
    }

    public static float[] Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var o = new float[a.Length];
        TensorPrimitives.Add(a, b, o);
        return o;
    }

    public static float[] AddBias(ReadOnlySpan<float> x, ReadOnlySpan<float> bias, int rows, int cols)
    {
        var o = new float[rows * cols];
        for (int r = 0; r < rows; r++) TensorPrimitives.Add(x.Slice(r * cols, cols), bias, o.AsSpan(r * cols, cols));
        return o;
    }

    /// <summary>silu(gate) * up.</summary>
    public static float[] SwiGlu(ReadOnlySpan<float> gate, ReadOnlySpan<float> up)
    {
        var o = new float[gate.Length];
        for (int i = 0; i < o.Length; i++) o[i] = (float)(gate[i] / (1.0 + Math.Exp(-gate[i])) * up[i]);
        return o;
    }

    /// <summary>RoPE of x [rows, heads, headDim] at positions [rows]; returns a new array. Angles in double.</summary>
    public static float[] Rope(ReadOnlySpan<float> x, ReadOnlySpan<int> positions, int rows, int heads, int headDim, int nRot, float freqBase, RopeMode mode)
    {
        var o = x.ToArray();
        int half = nRot / 2;
        for (int r = 0; r < rows; r++)
            for (int h = 0; h < heads; h++)
            {
                int b = (r * heads + h) * headDim;
                for (int i = 0; i < half; i++)
                {
                    double angle = positions[r] * Math.Pow(freqBase, -2.0 * i / nRot);
                    double c = Math.Cos(angle), s = Math.Sin(angle);
                    int i0 = mode == RopeMode.Neox ? i : 2 * i;
                    int i1 = mode == RopeMode.Neox ? i + half : 2 * i + 1;
                    double x0 = x[b + i0], x1 = x[b + i1];
                    o[b + i0] = (float)(x0 * c - x1 * s);
                    o[b + i1] = (float)(x0 * s + x1 * c);
                }
            }
        return o;
    }

    /// <summary>cache [capacity, kvDim] with rows of new [rows, kvDim] written at slots [rows].</summary>
    public static void KvStore(Span<float> cache, ReadOnlySpan<float> rowsNew, ReadOnlySpan<uint> slots, int kvDim)
    {
        for (int r = 0; r < slots.Length; r++)
            rowsNew.Slice(r * kvDim, kvDim).CopyTo(cache.Slice(checked((int)slots[r] * kvDim), kvDim));
    }

    /// <summary>One row's visible key slots: [0, A) U [B, E).</summary>
    public readonly record struct Visibility(int A, int B, int E)
    {
        public bool Sees(int slot) => slot < A || (slot >= B && slot < E);
    }

    /// <summary>
    /// out [rows, heads, headDim] = softmax(q k^T * scale over visible slots) v, with
    /// kCache/vCache [capacity, kvHeads, headDim]; query head h uses KV head h / (heads / kvHeads).
    /// </summary>
    public static float[] Attention(ReadOnlySpan<float> q, ReadOnlySpan<float> kCache, ReadOnlySpan<float> vCache, ReadOnlySpan<Visibility> vis,
        int rows, int heads, int kvHeads, int headDim, float scale)
    {
        var o = new float[rows * heads * headDim];
        int group = heads / kvHeads, kvDim = kvHeads * headDim;
        var scores = new List<(int Slot, double Score)>();
        for (int r = 0; r < rows; r++)
            for (int h = 0; h < heads; h++)
            {
                var qh = q.Slice((r * heads + h) * headDim, headDim);
                int kvh = h / group;
                scores.Clear();
                int end = Math.Max(vis[r].A, vis[r].E);
                for (int j = 0; j < end; j++)
                    if (vis[r].Sees(j))
                        scores.Add((j, TensorPrimitives.Dot(qh, kCache.Slice(j * kvDim + kvh * headDim, headDim)) * (double)scale));
                if (scores.Count == 0) continue;
                double max = scores.Max(s => s.Score);
                double sum = scores.Sum(s => Math.Exp(s.Score - max));
                var oh = o.AsSpan((r * heads + h) * headDim, headDim);
                var acc = new double[headDim];
                foreach (var (slot, score) in scores)
                {
                    double p = Math.Exp(score - max) / sum;
                    var v = vCache.Slice(slot * kvDim + kvh * headDim, headDim);
                    for (int d = 0; d < headDim; d++) acc[d] += p * v[d];
                }
                for (int d = 0; d < headDim; d++) oh[d] = (float)acc[d];
            }
        return o;
    }

    /// <summary>Per row: index of the largest value (lowest index on ties) and that value.</summary>
    public static (uint Index, float Value)[] Argmax(ReadOnlySpan<float> x, int rows, int cols)
    {
        var result = new (uint, float)[rows];
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * cols, cols);
            int best = 0;
            for (int c = 1; c < cols; c++) if (row[c] > row[best]) best = c;
            result[r] = ((uint)best, row[best]);
        }
        return result;
    }

    public static float[] Softmax(ReadOnlySpan<float> x, int rows, int cols, float temperature = 1f)
    {
        var o = new float[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * cols, cols);
            double max = double.NegativeInfinity;
            foreach (var v in row) max = Math.Max(max, v / (double)temperature);
            double sum = 0;
            for (int c = 0; c < cols; c++) sum += Math.Exp(row[c] / (double)temperature - max);
            for (int c = 0; c < cols; c++) o[r * cols + c] = (float)(Math.Exp(row[c] / (double)temperature - max) / sum);
        }
        return o;
    }

    /// <summary>||actual - expected|| / ||expected|| (ggml's normalised error, as a root); 0 when both are zero.</summary>
    public static double NormalizedError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        if (actual.Length != expected.Length) throw new ArgumentException($"Lengths differ: {actual.Length} vs {expected.Length}.");
        double diff = 0, norm = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = (double)actual[i] - expected[i];
            if (double.IsNaN(d)) return double.PositiveInfinity;
            diff += d * d;
            norm += (double)expected[i] * expected[i];
        }
        return norm == 0 ? Math.Sqrt(diff) : Math.Sqrt(diff / norm);
    }
}
