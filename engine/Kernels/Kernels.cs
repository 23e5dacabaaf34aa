using System.Runtime.InteropServices;
using TiDAR.Engine.Vulkan;

namespace TiDAR.Engine.Kernels;

/// <summary>
/// Output layout of a fused product: columns [0, Seg1) as rows of Seg1 values at element 0, [Seg1, Seg2)
/// as rows of Seg2-Seg1 at element Base1, [Seg2, N) as rows of N-Seg2 at element Base2. Lets one dispatch
/// of [Wq; Wk; Wv] (or [Wgate; Wup]) fill separate row-major q, k and v blocks of one buffer.
/// </summary>
public readonly record struct MatMulSplit(int Seg1, int Seg2, long Base1, long Base2);

/// <summary>An RMSNorm fused into the product that consumes it: X rows are normalised with Weight [K] and Eps first.</summary>
public readonly record struct FusedRmsNorm(BufferRange Weight, float Eps);

/// <summary>
/// Shape of one layer's attention prologue (<see cref="Kernels.QkvRopeStore"/>), and where its optional
/// per-layer vectors sit in the packed parameter buffer (element offsets; -1 when the model has none):
/// q/k/v biases, and the per-head q/k RMSNorm weights with their epsilon.
/// </summary>
public readonly record struct QkvPrologue(int Heads, int KvHeads, int HeadDim, int RotaryDims, float RopeBase, RopeMode Mode,
    int BiasQ = -1, int BiasK = -1, int BiasV = -1, int NormQ = -1, int NormK = -1, float NormEps = 1e-6f)
{
    public bool HasBias => BiasQ >= 0;
    public bool HasQkNorm => NormQ >= 0;
    /// <summary>Floats the packed parameter buffer holds.</summary>
    public int ParamFloats => Math.Max(HasBias ? BiasV + KvHeads * HeadDim : 0, HasQkNorm ? Math.Max(NormQ, NormK) + HeadDim : 0);
}

/// <summary>RoPE pairing: "norm" rotates (2i, 2i+1) (llama), "neox" rotates (i, i+n/2) (Qwen, GPT-NeoX).</summary>
public enum RopeMode : uint { Norm = 0, Neox = 1 }

/// <summary>
/// Records the engine's ops into a <see cref="CommandRecorder"/>. Every method checks its sizes and
/// throws a clear error before anything reaches the GPU; each op has a CPU twin in
/// <see cref="Reference.ReferenceOps"/>. Buffer shapes are given in each method's comment (fp32
/// unless said otherwise, row-major, last dimension innermost).
/// </summary>
public sealed class Kernels
{
    private readonly GpuDevice _device;
    public KernelConfig Config { get; }

    public Kernels(GpuDevice device, KernelConfig? config = null)
    {
        _device = device;
        Config = config ?? KernelConfig.For(device.Info);
    }

    public GpuDevice Device => _device;

    [StructLayout(LayoutKind.Sequential)] private readonly record struct EmbeddingPush(uint Rows, uint Dim, uint Vocab);
    [StructLayout(LayoutKind.Sequential)] private readonly record struct RowsColsEpsPush(uint Rows, uint Cols, float Eps);
    [StructLayout(LayoutKind.Sequential)] private readonly record struct MatMulPush(uint M, uint N, uint K, uint Ldy, uint NOff, uint XRowOff, uint Seg1, uint Seg2, uint NTotal, uint Base1, uint Base2, float Eps);
    [StructLayout(LayoutKind.Sequential)] private readonly record struct ElementwisePush(uint N, uint Cols);
    [StructLayout(LayoutKind.Sequential)] private readonly record struct RopePush(uint Rows, uint Heads, uint HeadDim, uint NRot, float Base);
    [StructLayout(LayoutKind.Sequential)] private readonly record struct KvStorePush(uint Rows, uint KvDim, uint Capacity);
    [StructLayout(LayoutKind.Sequential)] private readonly record struct AttentionPush(uint Rows, uint Heads, uint KvHeads, float Scale);
    [StructLayout(LayoutKind.Sequential)] private readonly record struct AttentionKeysPush(uint Rows, uint Heads, uint KvHeads, float Scale, uint Chunk, uint Chunks);
    [StructLayout(LayoutKind.Sequential)] private readonly record struct AttentionMergePush(uint Rows, uint Heads, uint Chunks);
    [StructLayout(LayoutKind.Sequential)] private readonly record struct QkvPush(uint Rows, uint Heads, uint KvHeads, uint NRot, float Base, float Eps, uint Capacity,
        uint OffBq, uint OffBk, uint OffBv, uint OffQn, uint OffKn);
    [StructLayout(LayoutKind.Sequential)] private readonly record struct ArgmaxPush(uint Rows, uint Cols, uint Stride);

    /// <summary>out [rows, dim] = table [vocab, dim] (fp32/fp16) gathered at ids [rows] (uint).</summary>
    public void Embedding(CommandRecorder rec, WeightMatrix table, BufferRange ids, BufferRange output, int rows)
    {
        Need(ids, rows * 4L, "embedding ids");
        Need(output, (long)rows * table.Cols * 4, "embedding output");
        var p = Pipeline("embedding", 3, 12, Config.ElementLanes, table.Type.ShaderCode());
        var (x, y) = Fold(Groups((long)rows * table.Cols, Config.ElementLanes));
        rec.Dispatch(p, [Binding.In(table.Buffer), Binding.In(ids), Binding.Out(output)],
            new EmbeddingPush((uint)rows, (uint)table.Cols, (uint)table.Rows), x, y);
    }

    /// <summary>output [rows, cols] = rmsnorm(x [rows, cols]) * weight [cols]; output may be x.</summary>
    public void RmsNorm(CommandRecorder rec, BufferRange x, BufferRange weight, BufferRange output, int rows, int cols, float eps)
    {
        Need(x, (long)rows * cols * 4, "rmsnorm input");
        Need(weight, cols * 4L, "rmsnorm weight");
        Need(output, (long)rows * cols * 4, "rmsnorm output");
        var p = ReductionPipeline("rmsnorm", 3, 12, Config.ReduceLanes);
        var (gx, gy) = Fold((uint)rows);
        rec.Dispatch(p, [Binding.In(x), Binding.In(weight), Binding.Out(output)], new RowsColsEpsPush((uint)rows, (uint)cols, eps), gx, gy);
    }

    /// <summary>
    /// y [m, ldy] (columns 0..w.Rows-1) = x [m, w.Cols] * w^T; ldy defaults to the number of outputs. One
    /// activation row runs the matrix x one row shape; many rows the variant from <see cref="Config"/> (or
    /// <paramref name="variant"/>). Bindings larger than maxStorageBufferRange are split: weight rows
    /// into chunks of output columns, output rows into chunks of y (give ldy a stride whose byte size is
    /// a multiple of the storage alignment when y may be larger than one binding).
    /// Fused work: <paramref name="norm"/> RMS-normalises x's rows first (RmsNorm then MatMul);
    /// <paramref name="glu"/> reads w's rows as interleaved gate/up pairs and writes silu(gate) * up, w.Rows / 2
    /// columns (MatMul then SwiGlu); <paramref name="accumulate"/> adds the product to y (a residual add).
    /// </summary>
    public void MatMul(CommandRecorder rec, WeightMatrix w, BufferRange x, BufferRange y, int m, MatMulVariant? variant = null, int ldy = 0,
        MatMulSplit? split = null, bool accumulate = false, FusedRmsNorm? norm = null, bool glu = false)
    {
        if (m < 1) throw new ArgumentOutOfRangeException(nameof(m), "MatMul needs at least one row.");
        w.Type.CheckColumns(w.Cols, "matmul weight");
        Need(x, (long)m * w.Cols * 4, "matmul input");
        if (norm is { } nw) Need(nw.Weight, w.Cols * 4L, "fused rmsnorm weight");
        if (glu && (w.Rows % 2 != 0 || split is not null)) throw new ArgumentException($"A gate/up product needs an even number of weight rows ({w.Rows}) and no output split.");
        int outputs = glu ? w.Rows / 2 : w.Rows;
        uint seg1 = uint.MaxValue, seg2 = uint.MaxValue, base1 = 0, base2 = 0;
        if (split is { } sp)
        {
            if (!(0 < sp.Seg1 && sp.Seg1 <= sp.Seg2 && sp.Seg2 <= w.Rows)) throw new ArgumentException($"Split columns {sp.Seg1}, {sp.Seg2} do not fit {w.Rows} outputs.");
            ldy = sp.Seg1;
            if (sp.Base1 < (long)m * sp.Seg1 || sp.Base2 < sp.Base1 + (long)m * (sp.Seg2 - sp.Seg1))
                throw new ArgumentException("Split output segments overlap.");
            Need(y, (sp.Base2 + (long)m * (w.Rows - sp.Seg2)) * 4, "matmul split output");
            (seg1, seg2, base1, base2) = ((uint)sp.Seg1, (uint)sp.Seg2, (uint)sp.Base1, (uint)sp.Base2);
        }
        if (ldy == 0) ldy = outputs;
        if (split is null && ldy < outputs) throw new ArgumentOutOfRangeException(nameof(ldy), $"Output stride {ldy} is shorter than the {outputs} outputs per row.");
        if (split is null) Need(y, ((long)(m - 1) * ldy + outputs) * 4, "matmul output");
        var v = variant ?? (m >= Config.SharedTiledMinRows ? Config.ManyRowsVariant : Config.FewRowsVariant);
        // Few rows get a tile of just that many (a power of two), so 2-7 rows do not pay for 8.
        uint tm = m == 1 ? 1 : Math.Min(Config.TileM, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)m));
        uint tn = m == 1 ? Config.MatVecRows : Config.TileN;
        if (glu && tn % 2 != 0) throw new InvalidOperationException($"A gate/up product needs an even tile width, not {tn}.");
        uint wtype = w.Type.ShaderCode();
        uint acc = accumulate ? 1u : 0u, nrm = norm is null ? 0u : 1u, gl = glu ? 1u : 0u;
        if (v == MatMulVariant.RowPerLane) tn = Config.LaneRows;
        var pipeline = v switch
        {
            MatMulVariant.SharedTiled => Pipeline("matmul_tiled", 4, 48, wtype, acc, nrm, gl),
            MatMulVariant.RowPerLane => ReductionPipeline("matmul_rows", 4, 48, Config.ReduceLanes, tm, tn, wtype, w.Cols % 4 == 0 ? 1u : 0u, acc, nrm, gl),
            _ => ReductionPipeline("matmul", 4, 48, Config.ReduceLanes, tm, tn, wtype, w.Cols % 4 == 0 ? 1u : 0u, acc, nrm, gl),
        };
        uint tileN = v switch { MatMulVariant.SharedTiled => 64, MatMulVariant.RowPerLane => Config.ReduceLanes * tn, _ => tn };
        uint tileM = v == MatMulVariant.SharedTiled ? 64 : tm;
        ulong maxRange = _device.Info.MaxStorageBufferRange;
        ulong align = _device.Info.MinStorageBufferOffsetAlignment;

        // Weight rows per binding: within maxStorageBufferRange and a multiple of 256 rows, so each
        // chunk's offset keeps the storage-buffer alignment (and gate/up pairs stay together).
        long maxRows = (long)(maxRange / w.RowBytes);
        long chunk = maxRows >= w.Rows ? w.Rows : maxRows / 256 * 256;
        if (chunk < 1) throw new ArgumentException($"One row of this weight matrix ({w.RowBytes} bytes) exceeds maxStorageBufferRange.");
        // Output rows per binding of y.
        ulong yRowBytes = (ulong)ldy * 4;
        long mChunk = (ulong)m * yRowBytes <= Math.Min(y.Size, maxRange) || split is not null ? m : (long)(maxRange / yRowBytes);
        if (split is not null && y.Size > maxRange) throw new ArgumentException("A split matmul output must fit one binding.");
        if (mChunk < 1) throw new ArgumentException($"One output row ({yRowBytes} bytes) exceeds maxStorageBufferRange.");
        if (mChunk < m && yRowBytes % align != 0)
            throw new ArgumentException($"The output needs several bindings, so its row stride ({yRowBytes} bytes) must be a multiple of {align}.");
        var xr = x with { Size = Math.Min(x.Size, maxRange) };
        var gr = norm?.Weight ?? xr;
        float eps = norm?.Eps ?? 0f;
        for (long m0 = 0; m0 < m; m0 += mChunk)
        {
            long mc = Math.Min(mChunk, m - m0);
            var yr = split is not null ? y
                : y.Buffer.Range(y.Offset + (ulong)m0 * yRowBytes, Math.Min(((ulong)(mc - 1) * (ulong)ldy + (ulong)outputs) * 4 + 3 & ~3UL, y.Size - (ulong)m0 * yRowBytes));
            for (long n0 = 0; n0 < w.Rows; n0 += chunk)
            {
                long n = Math.Min(chunk, w.Rows - n0);
                ulong start = (ulong)n0 * w.RowBytes;
                // Whole words: fp16 rows of odd length end mid-word; the allocator pads buffers to 4 bytes.
                var wr = w.Buffer.Range(start, Math.Min((ulong)n * w.RowBytes + 3 & ~3UL, w.Buffer.Size - start));
                var (gx, gy) = Fold(Groups(n, tileN));
                rec.Dispatch(pipeline, [Binding.In(wr), Binding.In(xr), accumulate ? Binding.InOut(yr) : Binding.Out(yr), Binding.In(gr)],
                    new MatMulPush((uint)mc, (uint)n, (uint)w.Cols, (uint)ldy, (uint)n0, (uint)m0, seg1, seg2, (uint)w.Rows, base1, base2, eps),
                    gx, gy, Groups(mc, tileM));
            }
        }
    }

    /// <summary>output [n] = a [n] + b [n] (residual add); output may be a.</summary>
    public void Add(CommandRecorder rec, BufferRange a, BufferRange b, BufferRange output, int n) => Elementwise(rec, 0, a, b, output, n, n, n);

    /// <summary>output [rows, cols] = x [rows, cols] + bias [cols]; output may be x.</summary>
    public void AddBias(CommandRecorder rec, BufferRange x, BufferRange bias, BufferRange output, int rows, int cols) =>
        Elementwise(rec, 1, x, bias, output, rows * cols, cols, cols);

    /// <summary>output [n] = silu(gate [n]) * up [n]; output may be gate.</summary>
    public void SwiGlu(CommandRecorder rec, BufferRange gate, BufferRange up, BufferRange output, int n) => Elementwise(rec, 2, gate, up, output, n, n, n);

    private void Elementwise(CommandRecorder rec, uint op, BufferRange a, BufferRange b, BufferRange o, int n, int cols, int bLength)
    {
        Need(a, n * 4L, "elementwise input a");
        Need(b, bLength * 4L, "elementwise input b");
        Need(o, n * 4L, "elementwise output");
        var p = Pipeline("elementwise", 3, 8, Config.ElementLanes, op);
        var (x, y) = Fold(Groups(n, Config.ElementLanes));
        rec.Dispatch(p, [Binding.In(a), Binding.In(b), Binding.Out(o)], new ElementwisePush((uint)n, (uint)cols), x, y);
    }

    /// <summary>In place on x [rows, heads, headDim]: rotary embedding of the first nRot dims at positions [rows] (int).</summary>
    public void Rope(CommandRecorder rec, BufferRange x, BufferRange positions, int rows, int heads, int headDim, int nRot, float freqBase, RopeMode mode)
    {
        if (nRot <= 0 || nRot > headDim || nRot % 2 != 0) throw new ArgumentException($"RoPE dims {nRot} must be even and within head_dim {headDim}.");
        Need(x, (long)rows * heads * headDim * 4, "rope input");
        Need(positions, rows * 4L, "rope positions");
        var p = Pipeline("rope", 2, 20, Config.ElementLanes, (uint)mode);
        var (gx, gy) = Fold(Groups((long)rows * heads * (nRot / 2), Config.ElementLanes));
        rec.Dispatch(p, [Binding.InOut(x), Binding.In(positions)], new RopePush((uint)rows, (uint)heads, (uint)headDim, (uint)nRot, freqBase), gx, gy);
    }

    /// <summary>
    /// kCache/vCache [capacity, kvDim] (fp32, or fp16 when <paramref name="f16Cache"/>) at slots [rows] (uint)
    /// = kNew/vNew [rows, kvDim].
    /// </summary>
    public void KvStore(CommandRecorder rec, BufferRange kNew, BufferRange vNew, BufferRange slots, BufferRange kCache, BufferRange vCache,
        int rows, int kvDim, int capacity, bool f16Cache)
    {
        if (kvDim % 2 != 0) throw new ArgumentException($"kv_dim {kvDim} must be even.");
        Need(kNew, (long)rows * kvDim * 4, "new keys");
        Need(vNew, (long)rows * kvDim * 4, "new values");
        Need(slots, rows * 4L, "slots");
        long cacheBytes = (long)capacity * kvDim * (f16Cache ? 2 : 4);
        Need(kCache, cacheBytes, "key cache");
        Need(vCache, cacheBytes, "value cache");
        var p = Pipeline("kv_store", 5, 12, Config.ElementLanes, f16Cache ? 1u : 0u);
        var (gx, gy) = Fold(Groups((long)rows * kvDim / 2, Config.ElementLanes));
        rec.Dispatch(p, [Binding.In(kNew), Binding.In(vNew), Binding.In(slots), Binding.Out(kCache), Binding.Out(vCache)],
            new KvStorePush((uint)rows, (uint)kvDim, (uint)capacity), gx, gy);
    }

    /// <summary>
    /// A layer's attention prologue in one dispatch: for each row, q/k/v [rows, heads or kvHeads, headDim] get
    /// their biases, q and k their per-head RMSNorm and RoPE at positions [rows] (int); the result of q goes
    /// to qOut [rows, heads, headDim], k and v to kCache/vCache [capacity, kvHeads * headDim] (fp32, or fp16
    /// when <paramref name="f16Cache"/>) at slots [rows] (uint). Equals AddBias, RmsNorm, Rope and KvStore in turn.
    /// <paramref name="parameters"/> holds the packed vectors <paramref name="shape"/> points into (any range when it has none).
    /// </summary>
    public void QkvRopeStore(CommandRecorder rec, QkvPrologue shape, BufferRange q, BufferRange k, BufferRange v, BufferRange parameters,
        BufferRange positions, BufferRange slots, BufferRange qOut, BufferRange kCache, BufferRange vCache, int rows, int capacity, bool f16Cache)
    {
        var (heads, kvHeads, hd) = (shape.Heads, shape.KvHeads, shape.HeadDim);
        if (hd % 2 != 0 || shape.RotaryDims <= 0 || shape.RotaryDims > hd || shape.RotaryDims % 2 != 0)
            throw new ArgumentException($"head_dim {hd} must be even and RoPE dims {shape.RotaryDims} even and within it.");
        if (shape.HasBias != (shape.BiasK >= 0 && shape.BiasV >= 0) || shape.HasQkNorm != shape.NormK >= 0)
            throw new ArgumentException("Give all of the q/k/v bias offsets or none, and both q/k norm offsets or neither.");
        if (rows > 65535 || heads + kvHeads > 65535) throw new ArgumentException($"{rows} rows x {heads + kvHeads} heads exceed one dispatch's grid.");
        long qBytes = (long)rows * heads * hd * 4, kvBytes = (long)rows * kvHeads * hd * 4;
        Need(q, qBytes, "queries"); Need(k, kvBytes, "new keys"); Need(v, kvBytes, "new values");
        Need(qOut, qBytes, "rotated queries");
        Need(parameters, shape.ParamFloats * 4L, "bias and norm vectors");
        Need(positions, rows * 4L, "positions"); Need(slots, rows * 4L, "slots");
        long cacheBytes = (long)capacity * kvHeads * hd * (f16Cache ? 2 : 4);
        Need(kCache, cacheBytes, "key cache"); Need(vCache, cacheBytes, "value cache");
        var p = ReductionPipeline("qkv_rope_store", 9, 48, Config.ReduceLanes, (uint)hd, (uint)shape.Mode, f16Cache ? 1u : 0u,
            shape.HasBias ? 1u : 0u, shape.HasQkNorm ? 1u : 0u);
        static uint Off(int o) => o < 0 ? 0 : (uint)o;
        rec.Dispatch(p, [Binding.In(q), Binding.In(k), Binding.In(v), Binding.In(parameters), Binding.In(positions), Binding.In(slots),
                Binding.Out(qOut), Binding.Out(kCache), Binding.Out(vCache)],
            new QkvPush((uint)rows, (uint)heads, (uint)kvHeads, (uint)shape.RotaryDims, shape.RopeBase, shape.NormEps, (uint)capacity,
                Off(shape.BiasQ), Off(shape.BiasK), Off(shape.BiasV), Off(shape.NormQ), Off(shape.NormK)),
            (uint)(heads + kvHeads), (uint)rows);
    }

    /// <summary>
    /// Keys per chunk of split attention over a cache of <paramref name="capacity"/> slots, or 0 when this
    /// device's attention is not split (or the head size cannot be). Depends on the cache only.
    /// </summary>
    public int AttentionChunk(int capacity, int headDim)
    {
        int max = Config.AttentionSplitMaxChunks;
        if (max <= 1 || headDim % 4 != 0) return 0;
        return Math.Max(Math.Max(1, Config.AttentionSplitMinChunk), (capacity + max - 1) / max);
    }

    /// <summary>Floats of the partial results split attention needs: [rows, heads, chunks, headDim + 2].</summary>
    public long AttentionPartialFloats(int rows, int heads, int headDim, int capacity)
    {
        int chunk = AttentionChunk(capacity, headDim);
        return chunk == 0 ? 0 : (long)rows * heads * ((capacity + chunk - 1) / chunk) * (headDim + 2);
    }

    /// <summary>
    /// output [rows, heads, headDim] = attention of q [rows, heads, headDim] over kCache/vCache
    /// [capacity, kvHeads, headDim], row r seeing key slots [0, a) U [b, e) from visibility [rows] (uint4 a, b, e, 0).
    /// Where the device splits attention (<see cref="AttentionChunk"/>), <paramref name="partials"/> holds the chunks'
    /// partial results (<see cref="AttentionPartialFloats"/> floats) and a second dispatch merges them.
    /// </summary>
    public void Attention(CommandRecorder rec, BufferRange q, BufferRange kCache, BufferRange vCache, BufferRange visibility, BufferRange output,
        int rows, int heads, int kvHeads, int headDim, int capacity, float scale, bool f16Cache, BufferRange? partials = null)
    {
        if (kvHeads < 1 || heads % kvHeads != 0) throw new ArgumentException($"{heads} query heads cannot be grouped over {kvHeads} KV heads.");
        if (rows > 65535) throw new ArgumentException($"Attention over {rows} rows in one dispatch; the limit is 65535.");
        Need(q, (long)rows * heads * headDim * 4, "attention queries");
        long cacheBytes = (long)capacity * kvHeads * headDim * (f16Cache ? 2 : 4);
        Need(kCache, cacheBytes, "key cache");
        Need(vCache, cacheBytes, "value cache");
        Need(visibility, rows * 16L, "visibility");
        Need(output, (long)rows * heads * headDim * 4, "attention output");
        int chunk = AttentionChunk(capacity, headDim);
        if (chunk > 0)
        {
            var part = partials ?? throw new ArgumentException("This device splits attention over the keys: give a partials buffer (AttentionPartialFloats).");
            int chunks = (capacity + chunk - 1) / chunk;
            long partBytes = AttentionPartialFloats(rows, heads, headDim, capacity) * 4;
            Need(part, partBytes, "attention partials");
            part = part with { Size = (ulong)partBytes };   // this step's rows only
            var split = ReductionPipeline("attention_keys", 5, 24, Config.ReduceLanes, (uint)headDim, f16Cache ? 1u : 0u, 1u);
            rec.Dispatch(split, [Binding.In(q), Binding.In(kCache), Binding.In(vCache), Binding.In(visibility), Binding.Out(part)],
                new AttentionKeysPush((uint)rows, (uint)heads, (uint)kvHeads, scale, (uint)chunk, (uint)chunks), (uint)heads, (uint)rows, (uint)chunks);
            var merge = ReductionPipeline("attention_merge", 2, 12, Config.ReduceLanes, (uint)headDim);
            rec.Dispatch(merge, [Binding.In(part), Binding.Out(output)], new AttentionMergePush((uint)rows, (uint)heads, (uint)chunks), (uint)heads, (uint)rows);
            return;
        }
        if (Config.AttentionKeysPerLane && headDim % 4 == 0)
        {
            var keys = ReductionPipeline("attention_keys", 5, 24, Config.ReduceLanes, (uint)headDim, f16Cache ? 1u : 0u, 0u);
            rec.Dispatch(keys, [Binding.In(q), Binding.In(kCache), Binding.In(vCache), Binding.In(visibility), Binding.Out(output)],
                new AttentionKeysPush((uint)rows, (uint)heads, (uint)kvHeads, scale, 0, 1), (uint)heads, (uint)rows);
            return;
        }
        var p = ReductionPipeline("attention", 5, 16, Config.ReduceLanes, (uint)headDim, f16Cache ? 1u : 0u);
        rec.Dispatch(p, [Binding.In(q), Binding.In(kCache), Binding.In(vCache), Binding.In(visibility), Binding.Out(output)],
            new AttentionPush((uint)rows, (uint)heads, (uint)kvHeads, scale), (uint)heads, (uint)rows);
    }

    /// <summary>output [rows] (uint index, float bits) = argmax of x [rows, rowStride] over its first cols, lowest index on ties.</summary>
    public void Argmax(CommandRecorder rec, BufferRange x, BufferRange output, int rows, int cols, int rowStride = 0)
    {
        if (rowStride == 0) rowStride = cols;
        Need(x, ((long)(rows - 1) * rowStride + cols) * 4, "argmax input");
        Need(output, rows * 8L, "argmax output");
        var p = ReductionPipeline("argmax", 2, 12, Config.ReduceLanes);
        var (gx, gy) = Fold((uint)rows);
        rec.Dispatch(p, [Binding.In(x), Binding.Out(output)], new ArgmaxPush((uint)rows, (uint)cols, (uint)rowStride), gx, gy);
    }

    /// <summary>output [rows, cols] = softmax(x / temperature) per row; output may be x.</summary>
    public void Softmax(CommandRecorder rec, BufferRange x, BufferRange output, int rows, int cols, float temperature = 1f)
    {
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), "Softmax temperature must be > 0.");
        Need(x, (long)rows * cols * 4, "softmax input");
        Need(output, (long)rows * cols * 4, "softmax output");
        var p = ReductionPipeline("softmax", 2, 12, Config.ReduceLanes);
        var (gx, gy) = Fold((uint)rows);
        rec.Dispatch(p, [Binding.In(x), Binding.InOut(output)], new RowsColsEpsPush((uint)rows, (uint)cols, 1f / temperature), gx, gy);
    }

    private ComputePipeline Pipeline(string shader, int bindings, int pushBytes, params ReadOnlySpan<uint> spec) =>
        _device.Pipelines.Get(shader, bindings, pushBytes, spec);

    /// <summary>
    /// A shader with workgroup reductions (shaders/common.glsl) whose first specialization constant is its
    /// lane count: when that fits the device's smallest subgroup, the reductions compile without barriers.
    /// </summary>
    private ComputePipeline ReductionPipeline(string shader, int bindings, int pushBytes, uint lanes, params ReadOnlySpan<uint> rest)
    {
        Span<uint> spec = stackalloc uint[rest.Length + 1];
        spec[0] = lanes;
        rest.CopyTo(spec[1..]);
        return _device.Pipelines.Get(shader, bindings, pushBytes, lanes <= _device.Info.MinSubgroupSize, spec);
    }

    private static void Need(BufferRange r, long bytes, string what)
    {
        if ((ulong)bytes > r.Size)
            throw new ArgumentException($"{what}: needs {bytes} bytes but '{r.Buffer.Name}' provides {r.Size}.");
    }

    private static uint Groups(long items, uint perGroup) => checked((uint)((items + perGroup - 1) / perGroup));

    /// <summary>Spreads a workgroup count over x and y so x stays within 65535 (shaders read group_index_xy()).</summary>
    private static (uint X, uint Y) Fold(uint groups) =>
        groups <= 65535 ? (groups, 1u) : (65535u, (groups + 65534) / 65535);
}
