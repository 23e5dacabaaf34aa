using System.Runtime.InteropServices;
using TiDAR.Engine.Kernels;
using TiDAR.Engine.Reference;
using TiDAR.Engine.Vulkan;

namespace TiDAR.Engine.Checks;

/// <summary>One op run on the device and compared with its C# reference.</summary>
public sealed record OpCheckResult(string Op, string Shape, double Error, double Tolerance)
{
    public bool Passed => Error <= Tolerance;
}

/// <summary>
/// Runs each GPU op on random inputs and compares it with <see cref="ReferenceOps"/> by normalised
/// error. Shared by `tidar check` (a user's first diagnostic on a new GPU) and the test suite, which
/// calls it over many more shapes.
/// </summary>
public sealed class OpChecks
{
    private readonly GpuDevice _device;
    private readonly Kernels.Kernels _kernels;
    private readonly Random _rng;

    public OpChecks(GpuDevice device, Kernels.Kernels? kernels = null, int seed = 1234)
    {
        _device = device;
        _kernels = kernels ?? new Kernels.Kernels(device);
        _rng = new Random(seed);
    }

    /// <summary>Tolerances by accumulation length: fp32 sums of k products differ from the reference by ~sqrt(k) ulps.</summary>
    public const double ElementwiseTolerance = 1e-6;
    public const double ReductionTolerance = 1e-5;
    public const double TranscendentalTolerance = 1e-5;

    public float[] RandomFloats(int n, float scale = 1f)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(_rng.NextDouble() * 2 - 1) * scale;
        return a;
    }

    /// <summary>The suite `tidar check` runs: every op on a few shapes, odd sizes among them.</summary>
    public IEnumerable<OpCheckResult> StandardSuite()
    {
        yield return Embedding(vocab: 1000, dim: 96, rows: 7, TensorType.F32);
        yield return Embedding(vocab: 1000, dim: 97, rows: 5, TensorType.F16);
        yield return RmsNorm(rows: 5, cols: 896);
        yield return RmsNorm(rows: 3, cols: 1001);
        foreach (var type in new[] { TensorType.F32, TensorType.F16 })
        {
            yield return MatMul(1, 1000, 896, type);
            yield return MatMul(1, 333, 101, type);
            yield return MatMul(37, 515, 256, type);
            yield return MatMul(70, 130, 99, type, MatMulVariant.SharedTiled);
            yield return MatMul(9, 77, 64, type, MatMulVariant.RegisterTiled);
            yield return MatMul(13, 77, 99, type, MatMulVariant.RowPerLane);
        }
        yield return MatMul(1, 1000, 896, TensorType.Q8_0);
        yield return MatMul(37, 515, 256, TensorType.Q8_0);
        yield return MatMul(70, 130, 96, TensorType.Q8_0, MatMulVariant.SharedTiled);
        yield return MatMul(1, 300, 96, TensorType.F32, accumulate: true);
        yield return MatMul(13, 130, 64, TensorType.F16, MatMulVariant.SharedTiled, accumulate: true);
        yield return MatMul(1, 512, 288, TensorType.F32, norm: true, glu: true);
        yield return MatMul(20, 96, 64, TensorType.Q8_0, norm: true);
        yield return MatMul(70, 130, 99, TensorType.F16, MatMulVariant.SharedTiled, norm: true, glu: true);
        yield return Add(1003);
        yield return AddBias(rows: 7, cols: 131);
        yield return SwiGlu(4865);
        yield return Rope(rows: 5, heads: 4, headDim: 64, nRot: 64, RopeMode.Neox, maxPosition: 4096);
        yield return Rope(rows: 3, heads: 3, headDim: 128, nRot: 128, RopeMode.Norm, maxPosition: 32768);
        yield return KvStore(rows: 6, kvDim: 2 * 64, capacity: 40, f16: false);
        yield return KvStore(rows: 5, kvDim: 3 * 32, capacity: 17, f16: true);
        yield return QkvRopeStore(rows: 5, heads: 14, kvHeads: 2, headDim: 64, nRot: 64, RopeMode.Neox, bias: true, qkNorm: false, f16: true);
        yield return QkvRopeStore(rows: 3, heads: 4, kvHeads: 2, headDim: 128, nRot: 128, RopeMode.Neox, bias: false, qkNorm: true, f16: false);
        yield return QkvRopeStore(rows: 4, heads: 6, kvHeads: 6, headDim: 48, nRot: 48, RopeMode.Norm, bias: false, qkNorm: false, f16: false);
        yield return Attention(rows: 20, heads: 8, kvHeads: 2, headDim: 64, history: 50, f16: false);
        yield return Attention(rows: 9, heads: 6, kvHeads: 6, headDim: 128, history: 33, f16: true);
        yield return Attention(rows: 5, heads: 4, kvHeads: 1, headDim: 40, history: 3, f16: false);
        yield return Argmax(rows: 4, cols: 151936);
        yield return Argmax(rows: 3, cols: 17);
        yield return Softmax(rows: 3, cols: 32000, temperature: 1f);
        yield return Softmax(rows: 5, cols: 7, temperature: 0.7f);
    }

    public OpCheckResult Embedding(int vocab, int dim, int rows, TensorType type)
    {
        var table = RandomFloats(vocab * dim);
        var ids = Enumerable.Range(0, rows).Select(_ => (uint)_rng.Next(vocab)).ToArray();
        ids[0] = (uint)vocab - 1;
        using var w = Weight(table, vocab, dim, type, out var tableSeen);
        using var idBuf = _device.Upload<uint>(ids, "ids");
        using var outBuf = _device.Allocate((ulong)(rows * dim * 4), "embedding-out");
        Run(rec => _kernels.Embedding(rec, w.Matrix, idBuf, outBuf, rows));
        var expected = ReferenceOps.Embedding(tableSeen, dim, ids);
        return Result("embedding", $"{type} vocab={vocab} dim={dim} rows={rows}", _device.Read<float>(outBuf, rows * dim), expected, 0);
    }

    public OpCheckResult RmsNorm(int rows, int cols, float eps = 1e-6f)
    {
        var x = RandomFloats(rows * cols, 3f);
        var w = RandomFloats(cols);
        using var xb = _device.Upload<float>(x, "x");
        using var wb = _device.Upload<float>(w, "w");
        using var ob = _device.Allocate((ulong)(rows * cols * 4), "out");
        Run(rec => _kernels.RmsNorm(rec, xb, wb, ob, rows, cols, eps));
        return Result("rmsnorm", $"rows={rows} cols={cols}", _device.Read<float>(ob, rows * cols), ReferenceOps.RmsNorm(x, w, rows, cols, eps), ReductionTolerance);
    }

    /// <summary>
    /// y = x w^T, with the fused work against the separate references: <paramref name="norm"/> RMSNorm of x first,
    /// <paramref name="glu"/> SwiGLU of interleaved (gate, up) output pairs, <paramref name="accumulate"/> y = y0 + product.
    /// </summary>
    public OpCheckResult MatMul(int m, int n, int k, TensorType type, MatMulVariant? variant = null, bool accumulate = false, bool norm = false, bool glu = false)
    {
        const float eps = 1e-5f;
        var x = RandomFloats(m * k);
        var wv = RandomFloats(n * k);
        var g = RandomFloats(k);
        int outputs = glu ? n / 2 : n;
        using var w = Weight(wv, n, k, type, out var wSeen);
        using var xb = _device.Upload<float>(x, "x");
        using var gb = _device.Upload<float>(g, "norm weight");
        var y0 = accumulate ? RandomFloats(m * outputs) : new float[m * outputs];
        using var yb = _device.Upload<float>(y0, "y");
        Run(rec => _kernels.MatMul(rec, w.Matrix, xb, yb, m, variant, accumulate: accumulate,
            norm: norm ? new FusedRmsNorm(gb, eps) : null, glu: glu));

        var product = ReferenceOps.MatMul(norm ? ReferenceOps.RmsNorm(x, g, m, k, eps) : x, wSeen, m, n, k);
        if (glu)
        {
            var gate = new float[m * outputs]; var up = new float[m * outputs];
            for (int i = 0; i < m * outputs; i++) { gate[i] = product[2 * i]; up[i] = product[2 * i + 1]; }
            product = ReferenceOps.SwiGlu(gate, up);
        }
        var expected = ReferenceOps.Add(y0, product);
        var name = (m == 1 ? "matvec" : "matmul") + (norm ? "+norm" : "") + (glu ? "+swiglu" : "") + (accumulate ? "+add" : "");
        var v = variant?.ToString() ?? "auto";
        return Result(name, $"{type} {v} m={m} n={n} k={k}", _device.Read<float>(yb, m * outputs), expected,
            glu ? TranscendentalTolerance : ReductionTolerance);
    }

    public OpCheckResult Add(int n)
    {
        var a = RandomFloats(n); var b = RandomFloats(n);
        using var ab = _device.Upload<float>(a, "a"); using var bb = _device.Upload<float>(b, "b");
        Run(rec => _kernels.Add(rec, ab, bb, ab, n)); // in place, as the residual stream uses it
        return Result("add", $"n={n} in-place", _device.Read<float>(ab, n), ReferenceOps.Add(a, b), ElementwiseTolerance);
    }

    public OpCheckResult AddBias(int rows, int cols)
    {
        var x = RandomFloats(rows * cols); var bias = RandomFloats(cols);
        using var xb = _device.Upload<float>(x, "x"); using var bb = _device.Upload<float>(bias, "bias");
        using var ob = _device.Allocate((ulong)(rows * cols * 4), "out");
        Run(rec => _kernels.AddBias(rec, xb, bb, ob, rows, cols));
        return Result("bias_add", $"rows={rows} cols={cols}", _device.Read<float>(ob, rows * cols), ReferenceOps.AddBias(x, bias, rows, cols), ElementwiseTolerance);
    }

    public OpCheckResult SwiGlu(int n)
    {
        var g = RandomFloats(n, 6f); var u = RandomFloats(n);
        using var gb = _device.Upload<float>(g, "gate"); using var ub = _device.Upload<float>(u, "up");
        using var ob = _device.Allocate((ulong)(n * 4), "out");
        Run(rec => _kernels.SwiGlu(rec, gb, ub, ob, n));
        return Result("swiglu", $"n={n}", _device.Read<float>(ob, n), ReferenceOps.SwiGlu(g, u), TranscendentalTolerance);
    }

    public OpCheckResult Rope(int rows, int heads, int headDim, int nRot, RopeMode mode, int maxPosition, float freqBase = 10000f)
    {
        var x = RandomFloats(rows * heads * headDim);
        var pos = Enumerable.Range(0, rows).Select(_ => _rng.Next(maxPosition)).ToArray();
        pos[0] = 0;
        using var xb = _device.Upload<float>(x, "x");
        using var pb = _device.Upload<int>(pos, "positions");
        Run(rec => _kernels.Rope(rec, xb, pb, rows, heads, headDim, nRot, freqBase, mode));
        var expected = ReferenceOps.Rope(x, pos, rows, heads, headDim, nRot, freqBase, mode);
        // Angles reach maxPosition radians; fp32 holds them to ~maxPosition * 6e-8.
        double tol = Math.Max(TranscendentalTolerance, maxPosition * 2e-7);
        return Result("rope", $"{mode} rows={rows} heads={heads} hd={headDim} rot={nRot} pos<{maxPosition}", _device.Read<float>(xb, x.Length), expected, tol);
    }

    public OpCheckResult KvStore(int rows, int kvDim, int capacity, bool f16)
    {
        var k = RandomFloats(rows * kvDim); var v = RandomFloats(rows * kvDim);
        var slots = Enumerable.Range(0, capacity).OrderBy(_ => _rng.Next()).Take(rows).Select(s => (uint)s).ToArray();
        var kc = RandomFloats(capacity * kvDim); var vc = RandomFloats(capacity * kvDim);
        using var kb = _device.Upload<float>(k, "k"); using var vb = _device.Upload<float>(v, "v");
        using var sb = _device.Upload<uint>(slots, "slots");
        using var kcb = Cache(kc, f16, out var kcSeen); using var vcb = Cache(vc, f16, out var vcSeen);
        Run(rec => _kernels.KvStore(rec, kb, vb, sb, kcb, vcb, rows, kvDim, capacity, f16));
        ReferenceOps.KvStore(kcSeen, f16 ? ReferenceOps.RoundToHalf(k) : k, slots, kvDim);
        ReferenceOps.KvStore(vcSeen, f16 ? ReferenceOps.RoundToHalf(v) : v, slots, kvDim);
        var got = ReadCache(kcb, capacity * kvDim, f16).Concat(ReadCache(vcb, capacity * kvDim, f16)).ToArray();
        return Result("kv_store", $"{(f16 ? "f16" : "f32")} rows={rows} kv_dim={kvDim} cap={capacity}", got, kcSeen.Concat(vcSeen).ToArray(), 0);
    }

    /// <summary>
    /// The fused attention prologue against the separate references in turn (bias add, per-head RMSNorm,
    /// RoPE, KV store), with biases and q/k norms present or not, full or partial rotary dims.
    /// </summary>
    public OpCheckResult QkvRopeStore(int rows, int heads, int kvHeads, int headDim, int nRot, RopeMode mode, bool bias, bool qkNorm, bool f16)
    {
        int qDim = heads * headDim, kvDim = kvHeads * headDim, capacity = rows + 7;
        const float eps = 1e-6f, freqBase = 10000f;
        var q = RandomFloats(rows * qDim, 3f); var k = RandomFloats(rows * kvDim, 3f); var v = RandomFloats(rows * kvDim);
        var pos = Enumerable.Range(0, rows).Select(_ => _rng.Next(4096)).ToArray();
        var slots = Enumerable.Range(0, capacity).OrderBy(_ => _rng.Next()).Take(rows).Select(x => (uint)x).ToArray();
        var shape = new QkvPrologue(heads, kvHeads, headDim, nRot, freqBase, mode);
        var parameters = new List<float>();
        float[] bq = RandomFloats(qDim), bk = RandomFloats(kvDim), bv = RandomFloats(kvDim), nq = RandomFloats(headDim), nk = RandomFloats(headDim);
        if (bias)
        {
            shape = shape with { BiasQ = 0, BiasK = qDim, BiasV = qDim + kvDim };
            parameters.AddRange(bq); parameters.AddRange(bk); parameters.AddRange(bv);
        }
        if (qkNorm)
        {
            shape = shape with { NormQ = parameters.Count, NormK = parameters.Count + headDim, NormEps = eps };
            parameters.AddRange(nq); parameters.AddRange(nk);
        }
        if (parameters.Count == 0) parameters.Add(0);

        using var qb = _device.Upload<float>(q, "q"); using var kb = _device.Upload<float>(k, "k"); using var vb = _device.Upload<float>(v, "v");
        using var pb = _device.Upload<float>(parameters.ToArray(), "bias and norms");
        using var posb = _device.Upload<int>(pos, "positions"); using var sb = _device.Upload<uint>(slots, "slots");
        using var qo = _device.Allocate((ulong)(rows * qDim * 4), "q out");
        var kc = RandomFloats(capacity * kvDim); var vc = RandomFloats(capacity * kvDim);
        using var kcb = Cache(kc, f16, out var kcSeen); using var vcb = Cache(vc, f16, out var vcSeen);
        Run(rec => _kernels.QkvRopeStore(rec, shape, qb, kb, vb, pb, posb, sb, qo, kcb, vcb, rows, capacity, f16));

        float[] Prologue(float[] x, int nHeads, float[] b, float[] norm)
        {
            if (bias) x = ReferenceOps.AddBias(x, b, rows, nHeads * headDim);
            if (qkNorm) x = ReferenceOps.RmsNorm(x, norm, rows * nHeads, headDim, eps);
            return ReferenceOps.Rope(x, pos, rows, nHeads, headDim, nRot, freqBase, mode);
        }
        var qRef = Prologue(q, heads, bq, nq);
        var kRef = Prologue(k, kvHeads, bk, nk);
        var vRef = bias ? ReferenceOps.AddBias(v, bv, rows, kvDim) : v;
        ReferenceOps.KvStore(kcSeen, f16 ? ReferenceOps.RoundToHalf(kRef) : kRef, slots, kvDim);
        ReferenceOps.KvStore(vcSeen, f16 ? ReferenceOps.RoundToHalf(vRef) : vRef, slots, kvDim);
        var got = _device.Read<float>(qo, rows * qDim).Concat(ReadCache(kcb, capacity * kvDim, f16)).Concat(ReadCache(vcb, capacity * kvDim, f16)).ToArray();
        var expected = qRef.Concat(kcSeen).Concat(vcSeen).ToArray();
        // Angles reach 4096 radians (fp32: ~4096 * 6e-8); an fp16 cache rounds a value the reference rounds the other way now and then.
        double tol = f16 ? 1e-3 : Math.Max(TranscendentalTolerance, 4096 * 2e-7);
        string what = $"{mode} rows={rows} heads={heads}/{kvHeads} hd={headDim} rot={nRot}{(bias ? " bias" : "")}{(qkNorm ? " qk-norm" : "")} {(f16 ? "f16" : "f32")}";
        return Result("qkv_rope_store", what, got, expected, tol);
    }

    /// <summary>
    /// The attention path as a step uses it: <paramref name="history"/> cached slots, then this step's
    /// rows write their K/V at slots history.. (kv_store) and attend with mixed visibility patterns:
    /// causal, TiDAR-like two intervals, everything, and nothing.
    /// </summary>
    public OpCheckResult Attention(int rows, int heads, int kvHeads, int headDim, int history, bool f16)
    {
        int capacity = history + rows + 3, kvDim = kvHeads * headDim;
        var q = RandomFloats(rows * heads * headDim);
        var kNew = RandomFloats(rows * kvDim); var vNew = RandomFloats(rows * kvDim);
        var slots = Enumerable.Range(history, rows).Select(s => (uint)s).ToArray();
        var kc = RandomFloats(capacity * kvDim); var vc = RandomFloats(capacity * kvDim);
        var vis = new ReferenceOps.Visibility[rows];
        for (int r = 0; r < rows; r++)
            vis[r] = (r % 4) switch
            {
                0 => new(history + r + 1, 0, 0),                                   // causal
                1 => new(history, history + r / 2, history + r + 1),               // prefix + a block
                2 => new(capacity, capacity, capacity),                            // everything
                _ => r == 3 ? new(0, 0, 0) : new(_rng.Next(history + 1), history, history + rows), // nothing / random
            };
        float scale = 1f / MathF.Sqrt(headDim);

        using var qb = _device.Upload<float>(q, "q");
        using var kb = _device.Upload<float>(kNew, "k"); using var vb = _device.Upload<float>(vNew, "v");
        using var sb = _device.Upload<uint>(slots, "slots");
        using var kcb = Cache(kc, f16, out var kcSeen); using var vcb = Cache(vc, f16, out var vcSeen);
        using var visb = _device.Upload<uint>(vis.SelectMany(v => new[] { (uint)v.A, (uint)v.B, (uint)v.E, 0u }).ToArray(), "visibility");
        using var ob = _device.Allocate((ulong)(rows * heads * headDim * 4), "out");
        // Devices that split attention over the keys need room for the chunks' partial results.
        long partialFloats = _kernels.AttentionPartialFloats(rows, heads, headDim, capacity);
        using var partials = partialFloats > 0 ? _device.Allocate((ulong)partialFloats * 4, "attention partials") : null;
        Run(rec =>
        {
            _kernels.KvStore(rec, kb, vb, sb, kcb, vcb, rows, kvDim, capacity, f16);
            _kernels.Attention(rec, qb, kcb, vcb, visb, ob, rows, heads, kvHeads, headDim, capacity, scale, f16, partials?.All);
        });
        ReferenceOps.KvStore(kcSeen, f16 ? ReferenceOps.RoundToHalf(kNew) : kNew, slots, kvDim);
        ReferenceOps.KvStore(vcSeen, f16 ? ReferenceOps.RoundToHalf(vNew) : vNew, slots, kvDim);
        var expected = ReferenceOps.Attention(q, kcSeen, vcSeen, vis, rows, heads, kvHeads, headDim, scale);
        return Result("attention", $"{(f16 ? "f16" : "f32")} kv rows={rows} heads={heads}/{kvHeads} hd={headDim} hist={history}",
            _device.Read<float>(ob, expected.Length), expected, ReductionTolerance);
    }

    public OpCheckResult Argmax(int rows, int cols)
    {
        var x = RandomFloats(rows * cols);
        if (rows > 1 && cols > 3) { x[cols + 1] = 5f; x[cols + 3] = 5f; } // a tie: lowest index must win
        using var xb = _device.Upload<float>(x, "x");
        using var ob = _device.Allocate((ulong)(rows * 8), "out");
        Run(rec => _kernels.Argmax(rec, xb, ob, rows, cols));
        var got = _device.Read<uint>(ob, rows * 2);
        var expected = ReferenceOps.Argmax(x, rows, cols);
        int wrong = 0;
        for (int r = 0; r < rows; r++)
            if (got[2 * r] != expected[r].Index || BitConverter.UInt32BitsToSingle(got[2 * r + 1]) != expected[r].Value) wrong++;
        return new OpCheckResult("argmax", $"rows={rows} cols={cols}", wrong, 0);
    }

    public OpCheckResult Softmax(int rows, int cols, float temperature)
    {
        var x = RandomFloats(rows * cols, 8f);
        using var xb = _device.Upload<float>(x, "x");
        using var ob = _device.Allocate((ulong)(rows * cols * 4), "out");
        Run(rec => _kernels.Softmax(rec, xb, ob, rows, cols, temperature));
        return Result("softmax", $"rows={rows} cols={cols} T={temperature}", _device.Read<float>(ob, rows * cols),
            ReferenceOps.Softmax(x, rows, cols, temperature), TranscendentalTolerance);
    }

    private void Run(Action<CommandRecorder> record)
    {
        using var rec = new CommandRecorder(_device);
        record(rec);
        rec.SubmitAndWait();
    }

    private static OpCheckResult Result(string op, string shape, ReadOnlySpan<float> got, ReadOnlySpan<float> expected, double tolerance) =>
        new(op, shape, ReferenceOps.NormalizedError(got, expected), tolerance);

    private sealed class OwnedWeight(WeightMatrix matrix) : IDisposable
    {
        public WeightMatrix Matrix { get; } = matrix;
        public void Dispose() => Matrix.Buffer.Dispose();
    }

    /// <summary>Uploads a weight and returns the values the GPU actually holds (fp16-rounded for F16).</summary>
    private OwnedWeight Weight(float[] values, int rows, int cols, TensorType type, out float[] seen)
    {
        if (type == TensorType.Q8_0)
        {
            // As a GGUF file holds it: ggml q8_0 blocks, repacked for the device on upload.
            var blocks = Gguf.GgmlQuant.QuantizeQ8_0(values);
            seen = new float[values.Length];
            Gguf.GgmlQuant.DequantizeQ8_0(blocks, seen);
            return new OwnedWeight(WeightMatrix.UploadRaw(_device, Q8Rows.FromGgufBlocks(blocks, rows, cols), rows, cols, type, "weight"));
        }
        seen = type == TensorType.F16 ? ReferenceOps.RoundToHalf(values) : values;
        return new OwnedWeight(WeightMatrix.Upload(_device, values, rows, cols, type, "weight"));
    }

    private GpuBuffer Cache(float[] values, bool f16, out float[] seen)
    {
        seen = f16 ? ReferenceOps.RoundToHalf(values) : values.ToArray();
        return f16 ? _device.Upload<Half>(WeightMatrix.ToHalf(values), "cache") : _device.Upload<float>(values, "cache");
    }

    private float[] ReadCache(GpuBuffer cache, int count, bool f16)
    {
        if (!f16) return _device.Read<float>(cache, count);
        var h = _device.Read<Half>(cache, count);
        var f = new float[count];
        System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(h, f);
        return f;
    }
}
