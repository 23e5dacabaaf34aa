using System.Numerics.Tensors;
using TiDAR.Engine.Reference;

namespace TiDAR.Engine.Model;

/// <summary>
/// The forward pass in plain C# over <see cref="ReferenceOps"/>, with its own KV cache: the
/// independent answer the GPU forward is tested against. Written to be read, not to be fast.
/// Weights are dequantized to fp32, which is exactly what the GPU computes with.
/// </summary>
public sealed class ReferenceModel
{
    private readonly ModelConfig _c;
    private readonly float[] _embedding, _outputNorm, _output;
    private readonly Layer[] _layers;
    private readonly float[][] _kCache, _vCache;

    /// <summary>Round cached keys and values to fp16, as a GPU fp16 KV cache holds them.</summary>
    public bool HalfPrecisionCache { get; }
    public int Capacity { get; }

    private sealed record Layer(float[] AttnNorm, float[] Wq, float[] Wk, float[] Wv, float[]? Bq, float[]? Bk, float[]? Bv,
        float[]? QNorm, float[]? KNorm, float[] Wo, float[] FfnNorm, float[] Wg, float[] Wu, float[] Wd);

    public ReferenceModel(ModelConfig config, IWeightSource weights, int capacity, bool halfPrecisionCache = false)
    {
        _c = config;
        Capacity = capacity;
        HalfPrecisionCache = halfPrecisionCache;
        _embedding = weights.ReadFloat32(TensorNames.TokenEmbedding);
        _outputNorm = weights.ReadFloat32(TensorNames.OutputNorm);
        _output = weights.Contains(TensorNames.Output) ? weights.ReadFloat32(TensorNames.Output) : _embedding;
        float[]? Opt(string name) => weights.Contains(name) ? weights.ReadFloat32(name) : null;
        _layers = Enumerable.Range(0, config.Layers).Select(l => new Layer(
            weights.ReadFloat32(TensorNames.AttnNorm(l)),
            weights.ReadFloat32(TensorNames.Q(l)), weights.ReadFloat32(TensorNames.K(l)), weights.ReadFloat32(TensorNames.V(l)),
            Opt(TensorNames.QBias(l)), Opt(TensorNames.KBias(l)), Opt(TensorNames.VBias(l)),
            Opt(TensorNames.QNorm(l)), Opt(TensorNames.KNorm(l)),
            weights.ReadFloat32(TensorNames.AttnOutput(l)), weights.ReadFloat32(TensorNames.FfnNorm(l)),
            weights.ReadFloat32(TensorNames.Gate(l)), weights.ReadFloat32(TensorNames.Up(l)), weights.ReadFloat32(TensorNames.Down(l)))).ToArray();
        _kCache = Enumerable.Range(0, config.Layers).Select(_ => new float[capacity * config.KvDim]).ToArray();
        _vCache = Enumerable.Range(0, config.Layers).Select(_ => new float[capacity * config.KvDim]).ToArray();
    }

    /// <summary>Cached keys of one layer, [capacity, kvDim].</summary>
    public ReadOnlySpan<float> KeyCache(int layer) => _kCache[layer];
    public ReadOnlySpan<float> ValueCache(int layer) => _vCache[layer];

    /// <summary>Runs the rows (writing their K/V at their slots) and returns logits [outputRows.Length, vocab] of the chosen rows.</summary>
    public float[] Forward(ReadOnlySpan<ForwardRow> rows, ReadOnlySpan<int> outputRows)
    {
        int n = rows.Length, dim = _c.Dim;
        for (int i = 0; i < n; i++) rows[i].Validate(i, Capacity, _c.VocabSize);
        var ids = new uint[n];
        var positions = new int[n];
        var slots = new uint[n];
        var vis = new ReferenceOps.Visibility[n];
        for (int i = 0; i < n; i++)
        {
            ids[i] = (uint)rows[i].Token;
            positions[i] = rows[i].Position;
            slots[i] = (uint)rows[i].Slot;
            vis[i] = new ReferenceOps.Visibility(rows[i].VisibleA, rows[i].VisibleB, rows[i].VisibleE);
        }

        var x = ReferenceOps.Embedding(_embedding, dim, ids);           // [n, dim]
        for (int l = 0; l < _c.Layers; l++)
        {
            var L = _layers[l];
            var h = ReferenceOps.RmsNorm(x, L.AttnNorm, n, dim, _c.RmsEps);
            var q = ReferenceOps.MatMul(h, L.Wq, n, _c.QDim, dim);          // [n, heads*hd]
            var k = ReferenceOps.MatMul(h, L.Wk, n, _c.KvDim, dim);         // [n, kvHeads*hd]
            var v = ReferenceOps.MatMul(h, L.Wv, n, _c.KvDim, dim);
            if (L.Bq is not null) q = ReferenceOps.AddBias(q, L.Bq, n, _c.QDim);
            if (L.Bk is not null) k = ReferenceOps.AddBias(k, L.Bk, n, _c.KvDim);
            if (L.Bv is not null) v = ReferenceOps.AddBias(v, L.Bv, n, _c.KvDim);
            if (L.QNorm is not null) q = ReferenceOps.RmsNorm(q, L.QNorm, n * _c.Heads, _c.HeadDim, _c.RmsEps);
            if (L.KNorm is not null) k = ReferenceOps.RmsNorm(k, L.KNorm, n * _c.KvHeads, _c.HeadDim, _c.RmsEps);
            q = ReferenceOps.Rope(q, positions, n, _c.Heads, _c.HeadDim, _c.RotaryDims, _c.RopeBase, _c.RopeMode);
            k = ReferenceOps.Rope(k, positions, n, _c.KvHeads, _c.HeadDim, _c.RotaryDims, _c.RopeBase, _c.RopeMode);
            ReferenceOps.KvStore(_kCache[l], HalfPrecisionCache ? ReferenceOps.RoundToHalf(k) : k, slots, _c.KvDim);
            ReferenceOps.KvStore(_vCache[l], HalfPrecisionCache ? ReferenceOps.RoundToHalf(v) : v, slots, _c.KvDim);
            var att = ReferenceOps.Attention(q, _kCache[l], _vCache[l], vis, n, _c.Heads, _c.KvHeads, _c.HeadDim, 1f / MathF.Sqrt(_c.HeadDim));
            x = ReferenceOps.Add(x, ReferenceOps.MatMul(att, L.Wo, n, dim, _c.QDim));
            var h2 = ReferenceOps.RmsNorm(x, L.FfnNorm, n, dim, _c.RmsEps);
            var act = ReferenceOps.SwiGlu(ReferenceOps.MatMul(h2, L.Wg, n, _c.FfnDim, dim), ReferenceOps.MatMul(h2, L.Wu, n, _c.FfnDim, dim));
            x = ReferenceOps.Add(x, ReferenceOps.MatMul(act, L.Wd, n, dim, _c.FfnDim));
        }

        var selected = new float[outputRows.Length * dim];
        for (int i = 0; i < outputRows.Length; i++) x.AsSpan(outputRows[i] * dim, dim).CopyTo(selected.AsSpan(i * dim, dim));
        var normed = ReferenceOps.RmsNorm(selected, _outputNorm, outputRows.Length, dim, _c.RmsEps);
        return ReferenceOps.MatMul(normed, _output, outputRows.Length, _c.VocabSize, dim);
    }
}
