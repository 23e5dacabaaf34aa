using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace TiDAR.Trainer.Model;

/// <summary>RMSNorm exactly as HF Qwen3RMSNorm: fp32, x * rsqrt(mean(x^2) + eps) * w.</summary>
public sealed class RmsNorm : Module<Tensor, Tensor>
{
    public readonly Parameter weight;
    private readonly double _eps;
    public RmsNorm(int dim, double eps) : base("RmsNorm")
    {
        weight = Parameter(ones(dim));
        _eps = eps;
        RegisterComponents();
    }
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var v = x.pow(2).mean([-1L], keepdim: true);
        return (weight * (x * rsqrt(v + _eps))).MoveToOuterDisposeScope();
    }
}

/// <summary>One Qwen3 decoder layer: pre-norm GQA attention with per-head q/k RMSNorm and neox RoPE, then SwiGLU.</summary>
public sealed class DecoderLayer : Module<Tensor, Tensor, Tensor, Tensor, Tensor>
{
    public readonly RmsNorm input_layernorm, post_attention_layernorm, q_norm, k_norm;
    public readonly Linear q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj;
    private readonly TidarConfig _c;

    public DecoderLayer(TidarConfig c) : base("DecoderLayer")
    {
        _c = c;
        input_layernorm = new RmsNorm(c.Dim, c.RmsEps);
        post_attention_layernorm = new RmsNorm(c.Dim, c.RmsEps);
        q_norm = new RmsNorm(c.HeadDim, c.RmsEps);
        k_norm = new RmsNorm(c.HeadDim, c.RmsEps);
        q_proj = Linear(c.Dim, c.Heads * c.HeadDim, hasBias: false);
        k_proj = Linear(c.Dim, c.KvHeads * c.HeadDim, hasBias: false);
        v_proj = Linear(c.Dim, c.KvHeads * c.HeadDim, hasBias: false);
        o_proj = Linear(c.Heads * c.HeadDim, c.Dim, hasBias: false);
        gate_proj = Linear(c.Dim, c.FfnDim, hasBias: false);
        up_proj = Linear(c.Dim, c.FfnDim, hasBias: false);
        down_proj = Linear(c.FfnDim, c.Dim, hasBias: false);
        RegisterComponents();
    }

    /// <param name="x">[B, T, dim]</param>
    /// <param name="cos">[T, headDim]</param>
    /// <param name="sin">[T, headDim]</param>
    /// <param name="mask">[T, T] bool, true = may attend</param>
    public override Tensor forward(Tensor x, Tensor cos, Tensor sin, Tensor mask)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], t = x.shape[1];
        int hd = _c.HeadDim;
        var h = input_layernorm.forward(x);
        var q = q_norm.forward(q_proj.forward(h).view(b, t, _c.Heads, hd)).transpose(1, 2);     // [B, H, T, hd]
        var k = k_norm.forward(k_proj.forward(h).view(b, t, _c.KvHeads, hd)).transpose(1, 2);   // [B, KvH, T, hd]
        var v = v_proj.forward(h).view(b, t, _c.KvHeads, hd).transpose(1, 2);
        q = ApplyRope(q, cos, sin);
        k = ApplyRope(k, cos, sin);
        int rep = _c.Heads / _c.KvHeads;
        if (rep > 1)
        {
            k = k.repeat_interleave(rep, dim: 1);
            v = v.repeat_interleave(rep, dim: 1);
        }
        var att = functional.scaled_dot_product_attention(q, k, v, attn_mask: mask);          // [B, H, T, hd]
        var o = o_proj.forward(att.transpose(1, 2).reshape(b, t, _c.Heads * hd));
        x = x + o;
        var h2 = post_attention_layernorm.forward(x);
        x = x + down_proj.forward(functional.silu(gate_proj.forward(h2)) * up_proj.forward(h2));
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Incremental forward for generation: appends this chunk's K/V to <paramref name="cache"/> (per layer
    /// [B, KvH, T, hd], null at first) and attends over everything cached; <paramref name="mask"/> is
    /// [t, Tcached + t] or null when every row may see every cached slot (single-token steps).
    /// </summary>
    public Tensor ForwardCached(Tensor x, Tensor cos, Tensor sin, Tensor? mask, ref (Tensor K, Tensor V)? cache)
    {
        long b = x.shape[0], t = x.shape[1];
        int hd = _c.HeadDim;
        var h = input_layernorm.forward(x);
        var q = q_norm.forward(q_proj.forward(h).view(b, t, _c.Heads, hd)).transpose(1, 2);
        var k = k_norm.forward(k_proj.forward(h).view(b, t, _c.KvHeads, hd)).transpose(1, 2);
        var v = v_proj.forward(h).view(b, t, _c.KvHeads, hd).transpose(1, 2);
        q = ApplyRope(q, cos, sin);
        k = ApplyRope(k, cos, sin);
        if (cache is { } c) { k = cat([c.K, k], 2); v = cat([c.V, v], 2); }
        cache = (k, v);
        int rep = _c.Heads / _c.KvHeads;
        var kk = rep > 1 ? k.repeat_interleave(rep, dim: 1) : k;
        var vv = rep > 1 ? v.repeat_interleave(rep, dim: 1) : v;
        var att = functional.scaled_dot_product_attention(q, kk, vv, attn_mask: mask);
        x = x + o_proj.forward(att.transpose(1, 2).reshape(b, t, _c.Heads * hd));
        var h2 = post_attention_layernorm.forward(x);
        return x + down_proj.forward(functional.silu(gate_proj.forward(h2)) * up_proj.forward(h2));
    }

    /// <summary>HF rotate_half RoPE: pairs (i, i + d/2).</summary>
    internal static Tensor ApplyRope(Tensor x, Tensor cos, Tensor sin)
    {
        long half = x.shape[^1] / 2;
        var x1 = x.narrow(-1, 0, half);
        var x2 = x.narrow(-1, half, half);
        var rotated = cat([-x2, x1], -1);
        return x * cos + rotated * sin;
    }
}

/// <summary>The Qwen3ForCausalLM layout with tied embeddings; names match HF so export is a rename-free copy.</summary>
public sealed class TidarTransformer : Module<Tensor, Tensor, Tensor, Tensor>
{
    public readonly Embedding embed_tokens;
    public readonly ModuleList<DecoderLayer> layers;
    public readonly RmsNorm norm;
    public TidarConfig Config { get; }
    private readonly Tensor _invFreq;

    public TidarTransformer(TidarConfig c) : base("TidarTransformer")
    {
        Config = c;
        embed_tokens = Embedding(c.VocabSize, c.Dim);
        layers = new ModuleList<DecoderLayer>(Enumerable.Range(0, c.Layers).Select(_ => new DecoderLayer(c)).ToArray());
        norm = new RmsNorm(c.Dim, c.RmsEps);
        // inv_freq[i] = theta^(-2i/d), computed in double as HF does in fp32 from int64 arange.
        var inv = Enumerable.Range(0, c.HeadDim / 2).Select(i => (float)(1.0 / Math.Pow(c.RopeTheta, 2.0 * i / c.HeadDim))).ToArray();
        _invFreq = tensor(inv);
        RegisterComponents();
        InitWeights();
    }

    private void InitWeights()
    {
        using var _ = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith("norm.weight") || name.Contains("layernorm")) continue;
            init.normal_(p, 0.0, 0.02);
        }
        // Scale residual output projections as GPT-2 does, for stable deep training.
        double s = 0.02 / Math.Sqrt(2.0 * Config.Layers);
        foreach (var l in layers) { init.normal_(l.o_proj.weight!, 0.0, s); init.normal_(l.down_proj.weight!, 0.0, s); }
    }

    /// <summary>cos/sin tables [T, headDim] for the given positions.</summary>
    public (Tensor Cos, Tensor Sin) RopeTables(Tensor positions)
    {
        var freqs = positions.to_type(ScalarType.Float32).unsqueeze(1) * _invFreq.unsqueeze(0); // [T, hd/2]
        var emb = cat([freqs, freqs], -1);
        return (emb.cos(), emb.sin());
    }

    /// <summary>Hidden states after the final norm, [B, T, dim].</summary>
    public Tensor Hidden(Tensor tokens, Tensor positions, Tensor mask)
    {
        using var scope = NewDisposeScope();
        var (cos, sin) = RopeTables(positions);
        var x = embed_tokens.forward(tokens);
        foreach (var l in layers) x = l.forward(x, cos, sin, mask);
        return norm.forward(x).MoveToOuterDisposeScope();
    }

    /// <summary>Logits [B, T, vocab] (tied head: hidden @ embedding^T).</summary>
    public override Tensor forward(Tensor tokens, Tensor positions, Tensor mask)
    {
        using var scope = NewDisposeScope();
        var h = Hidden(tokens, positions, mask);
        return functional.linear(h, embed_tokens.weight!).MoveToOuterDisposeScope();
    }

    /// <summary>Incremental logits [B, t, vocab] for a chunk at positions [start, start + t), updating the per-layer caches.</summary>
    public Tensor ForwardCached(Tensor tokens, int start, Tensor? mask, (Tensor K, Tensor V)?[] caches)
    {
        long t = tokens.shape[1];
        var (cos, sin) = RopeTables(arange(start, start + t, dtype: ScalarType.Int64));
        var x = embed_tokens.forward(tokens);
        for (int l = 0; l < layers.Count; l++) x = layers[l].ForwardCached(x, cos, sin, mask, ref caches[l]);
        return functional.linear(norm.forward(x), embed_tokens.weight!);
    }

    public long ParameterCount() => parameters().Sum(p => p.numel());
}
