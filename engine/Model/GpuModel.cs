using TiDAR.Engine.Kernels;
using TiDAR.Engine.Vulkan;

namespace TiDAR.Engine.Model;

/// <summary>Sizes that fix the device buffers of a <see cref="GpuModel"/>.</summary>
public sealed record GpuModelOptions
{
    /// <summary>Most rows one forward may carry (prefill chunk, TiDAR step).</summary>
    public int MaxRows { get; init; } = 128;
    /// <summary>Most rows one forward may return logits or argmax for.</summary>
    public int MaxOutputRows { get; init; } = 128;
    /// <summary>
    /// Compute every row exactly as it would be computed alone (same kernel and reduction order for any
    /// number of rows), so that exact TiDAR decoding is token-identical to AR. Costs the shared-memory
    /// matmul on GPUs for long prefills; off only for throughput experiments.
    /// </summary>
    public bool BatchInvariant { get; init; } = true;
    /// <summary>Run q/k/v and gate/up as one product each (fewer dispatches); off only to test the separate path.</summary>
    public bool FuseProjections { get; init; } = true;
    /// <summary>Kernel shapes; null = chosen from the device (tests force the GPU shapes on CPU drivers).</summary>
    public KernelConfig? Kernels { get; init; }
    /// <summary>Time every dispatch with timestamp queries (<see cref="GpuModel.LastTimings"/>); for profiling.</summary>
    public bool TimeDispatches { get; init; }
}

/// <summary>What a forward returns for its output rows.</summary>
public sealed class ForwardOutput
{
    /// <summary>Logits [rows, vocab] when asked for, else null.</summary>
    public float[]? Logits { get; init; }
    /// <summary>Greedy token and its logit per output row when asked for, else null.</summary>
    public (int Token, float Logit)[]? Argmax { get; init; }
}

/// <summary>
/// A decoder's weights on the device and the forward pass over a row list (DESIGN.md section 2),
/// recorded into one command buffer with one wait. Activation buffers (fp32, R = MaxRows):
///   x [R, dim] residual stream      h [R, dim] normed input       q [R, heads*hd]   k, v [R, kvHeads*hd]
///   att [R, heads*hd]               o [R, dim]                    gate, up [R, ffn]
///   positions [R] int               slots [R] uint                visibility [R] uint4 (a, b, e, 0)
///   xOut [O, dim] selected rows     logits [O, ldy] (ldy = vocab padded to the storage alignment)
///   argmax [O] uint2 (index, value bits)
/// The token embedding is gathered on the host from the weight source (rows only, never the whole
/// table), so untied vocabularies larger than one binding cost no device memory.
/// </summary>
public sealed class GpuModel : IDisposable
{
    /// <summary>One block's weights. Projections are fused ([Wq; Wk; Wv] stacked, Wgate and Wup interleaved row by row) when stored alike, else separate.</summary>
    // AttnParams: the layer's q/k/v biases and q/k norm weights packed as _prologue lays them out (null when it has none).
    private sealed record Layer(GpuBuffer AttnNorm, WeightMatrix? Qkv, WeightMatrix[] QkvParts, GpuBuffer? AttnParams,
        WeightMatrix Wo, GpuBuffer FfnNorm, WeightMatrix? GateUp, WeightMatrix[] GateUpParts, WeightMatrix Wd);

    private readonly Kernels.Kernels _k;
    private readonly IWeightSource _source;
    private readonly Layer[] _layers;
    private readonly WeightMatrix _output;
    private readonly GpuBuffer _outputNorm;
    private readonly List<IDisposable> _owned = new();
    // x [R, dim]: residual stream (the norms are fused into the products that read it); qRot and att [R, heads*hd]: q after the prologue
    // (bias, norm, RoPE) and the attention output.
    private readonly GpuBuffer _x, _qkv, _qRot, _att, _gateUp, _pos, _slots, _vis, _xOut, _logits, _argmax;
    // q [R, heads*hd], k and v [R, kvHeads*hd] are blocks of _qkv; gate and up [R, ffn] blocks of _gateUp
    // (gate holds silu(gate) * up straight from the fused product; up is used only when gate and up are stored apart),
    // so fused projections fill them in one dispatch (MatMulSplit).
    private readonly BufferRange _q, _kb, _vb, _gate, _up;
    private readonly MatMulSplit _qkvSplit;
    private readonly QkvPrologue _prologue;
    // Host-side row inputs [MaxRows] (x: [MaxRows, dim]) and the recorder, reused by every forward.
    private readonly int[] _posHost, _tokensHost;
    private readonly uint[] _slotsHost, _visHost;
    private readonly float[] _xHost;
    private CommandRecorder? _recorder;
    private bool _recorderUsed;
    // Split attention's partial results [MaxRows, heads, chunks, headDim + 2], sized for the largest cache seen
    // (devices that do not split attention never allocate it).
    private GpuBuffer? _attnPartials;
    private readonly int _ldy;
    // Where device memory is not host-visible: host staging for the inputs [x | positions | slots | visibility]
    // and outputs [logits | argmax], copied inside the forward's own command buffer (one submit, one wait).
    private readonly GpuBuffer? _stageIn, _stageOut;
    private readonly MatMulVariant? _variant;

    public ModelConfig Config { get; }
    public GpuDevice Device { get; }
    public GpuModelOptions Options { get; }
    public ulong WeightBytes { get; }

    public GpuModel(GpuDevice device, ModelConfig config, IWeightSource source, GpuModelOptions? options = null)
    {
        config.Validate();
        Device = device;
        Config = config;
        Options = options ?? new GpuModelOptions();
        if (Options.MaxRows < 1 || Options.MaxOutputRows < 1 || Options.MaxOutputRows > Options.MaxRows)
            throw new ArgumentException($"MaxRows {Options.MaxRows} and MaxOutputRows {Options.MaxOutputRows} must be >= 1 with outputs <= rows.");
        _k = new Kernels.Kernels(device, Options.Kernels);
        _variant = Options.BatchInvariant ? _k.Config.FewRowsVariant : null;
        _source = source;
        try
        {
            var c = config;
            _prologue = Prologue(c);
            _layers = new Layer[c.Layers];
            for (int l = 0; l < c.Layers; l++)
            {
                var (qkv, qkvParts) = Projections([TensorNames.Q(l), TensorNames.K(l), TensorNames.V(l)], [c.QDim, c.KvDim, c.KvDim], c.Dim);
                var (gateUp, gateUpParts) = Projections([TensorNames.Gate(l), TensorNames.Up(l)], [c.FfnDim, c.FfnDim], c.Dim, interleave: true);
                _layers[l] = new Layer(
                    Vector(TensorNames.AttnNorm(l), c.Dim), qkv, qkvParts, AttnParams(l),
                    Matrix(TensorNames.AttnOutput(l), c.Dim, c.QDim),
                    Vector(TensorNames.FfnNorm(l), c.Dim), gateUp, gateUpParts,
                    Matrix(TensorNames.Down(l), c.Dim, c.FfnDim));
            }
            _outputNorm = Vector(TensorNames.OutputNorm, c.Dim);
            _output = Matrix(source.Contains(TensorNames.Output) ? TensorNames.Output : TensorNames.TokenEmbedding, c.VocabSize, c.Dim);
            WeightBytes = _owned.OfType<GpuBuffer>().Aggregate(0UL, (s, b) => s + b.Size);

            int r = Options.MaxRows, o = Options.MaxOutputRows;
            ulong align = Math.Max(4, device.Info.MinStorageBufferOffsetAlignment) / 4;
            _ldy = (int)((ulong)c.VocabSize + align - 1) / (int)align * (int)align;
            static long AlignElems(long v, ulong a) => (v + (long)a - 1) / (long)a * (long)a;
            _x = Act(r * c.Dim, "x");
            (_posHost, _tokensHost, _slotsHost, _visHost, _xHost) = (new int[r], new int[r], new uint[r], new uint[r * 4], new float[r * c.Dim]);
            long q1 = AlignElems((long)r * c.QDim, align), k1 = AlignElems((long)r * c.KvDim, align);
            _qkv = Act(q1 + k1 + (long)r * c.KvDim, "qkv");
            _q = _qkv.Range(0, (ulong)(r * c.QDim) * 4);
            _kb = _qkv.Range((ulong)q1 * 4, (ulong)(r * c.KvDim) * 4);
            _vb = _qkv.Range((ulong)(q1 + k1) * 4, (ulong)(r * c.KvDim) * 4);
            _qkvSplit = new MatMulSplit(c.QDim, c.QDim + c.KvDim, q1, q1 + k1);
            _qRot = Act(r * c.QDim, "q-rotated"); _att = Act(r * c.QDim, "att");
            long g1 = AlignElems((long)r * c.FfnDim, align);
            _gateUp = Act(g1 + (long)r * c.FfnDim, "gate-up");
            _gate = _gateUp.Range(0, (ulong)(r * c.FfnDim) * 4);
            _up = _gateUp.Range((ulong)g1 * 4, (ulong)(r * c.FfnDim) * 4);
            _pos = Act(r, "positions"); _slots = Act(r, "slots"); _vis = Act(r * 4, "visibility");
            _xOut = Act(o * c.Dim, "x-out"); _logits = Act(o * _ldy, "logits"); _argmax = Act(o * 2, "argmax");
            if (!device.Allocator.DeviceMemoryIsHostVisible)
            {
                _stageIn = Own(device.Allocate(_x.Size + _pos.Size + _slots.Size + _vis.Size, "stage-in", MemoryKind.Staging));
                _stageOut = Own(device.Allocate(_logits.Size + _argmax.Size, "stage-out", MemoryKind.Staging));
            }
        }
        catch { Dispose(); throw; }
    }

    /// <summary>Host time to record the last forward's command buffer, and time from submit to completion.</summary>
    public double LastRecordMs { get; private set; }
    public double LastSubmitMs { get; private set; }
    public int LastDispatches { get; private set; }
    /// <summary>Per-dispatch GPU times of the last forward when <see cref="GpuModelOptions.TimeDispatches"/> is on.</summary>
    public IReadOnlyList<DispatchTiming> LastTimings { get; private set; } = [];

    public KvCache CreateCache(int capacity, bool halfPrecision = true) => new(Device, Config, capacity, halfPrecision);

    private GpuBuffer Act(long floats, string name) => Own(Device.Allocate((ulong)floats * 4, name));

    private T Own<T>(T d) where T : IDisposable { _owned.Add(d); return d; }

    private GpuBuffer Vector(string name, int length) => Own(Device.Upload<float>(VectorValues(name, length), name));

    private float[] VectorValues(string name, int length)
    {
        var d = _source.Describe(name);
        if (d.Elements != length) throw new InvalidDataException($"Tensor {name} has {d.Elements} values; the model's hyperparameters need {length}.");
        return _source.ReadFloat32(name);
    }

    /// <summary>Where the attention prologue finds biases and q/k norm weights in a layer's packed vector buffer.</summary>
    private static QkvPrologue Prologue(ModelConfig c)
    {
        var shape = new QkvPrologue(c.Heads, c.KvHeads, c.HeadDim, c.RotaryDims, c.RopeBase, c.RopeMode, NormEps: c.RmsEps);
        int at = 0;
        if (c.QkvBias) { shape = shape with { BiasQ = 0, BiasK = c.QDim, BiasV = c.QDim + c.KvDim }; at = c.QDim + 2 * c.KvDim; }
        if (c.QkNorm) shape = shape with { NormQ = at, NormK = at + c.HeadDim };
        return shape;
    }

    /// <summary>Layer l's biases and q/k norm weights, packed as <see cref="_prologue"/> says; null when the model has none.</summary>
    private GpuBuffer? AttnParams(int l)
    {
        var c = Config;
        var packed = new List<float>();
        if (c.QkvBias)
        {
            packed.AddRange(VectorValues(TensorNames.QBias(l), c.QDim));
            packed.AddRange(VectorValues(TensorNames.KBias(l), c.KvDim));
            packed.AddRange(VectorValues(TensorNames.VBias(l), c.KvDim));
        }
        if (c.QkNorm)
        {
            packed.AddRange(VectorValues(TensorNames.QNorm(l), c.HeadDim));
            packed.AddRange(VectorValues(TensorNames.KNorm(l), c.HeadDim));
        }
        return packed.Count == 0 ? null : Own(Device.Upload<float>(packed.ToArray(), $"blk.{l}.attn_params"));
    }

    /// <summary>
    /// Projections that read the same input, stacked into one matrix when they are stored alike (and fusion
    /// is on); otherwise uploaded one by one.
    /// </summary>
    private (WeightMatrix? Fused, WeightMatrix[] Parts) Projections(string[] names, int[] rows, int cols, bool interleave = false)
    {
        bool alike = names.Select(n => _source.Describe(n).Type).Distinct().Count() == 1;
        if (!Options.FuseProjections || !alike)
            return (null, names.Select((n, i) => Matrix(n, rows[i], cols)).ToArray());
        return (Stacked(names, rows, cols, interleave), []);
    }

    /// <summary>Uploads a matrix in the device encoding closest to its stored one (no precision lost).</summary>
    private WeightMatrix Matrix(string name, int rows, int cols) => Stacked([name], [rows], cols);

    /// <summary>
    /// The named matrices (all stored in one type) stacked row-wise into one device matrix: f32, f16 and
    /// q8_0 keep their encoding; bf16 and 4-bit values, exact in fp32 but without a kernel of their own
    /// yet, become fp32.
    /// </summary>
    private WeightMatrix Stacked(string[] names, int[] rows, int cols, bool interleave = false)
    {
        for (int i = 0; i < names.Length; i++)
        {
            var (r, cc) = _source.Describe(names[i]).Matrix;
            if (r != rows[i] || cc != cols)
                throw new InvalidDataException($"Tensor {names[i]} is [{r}, {cc}] but the model's hyperparameters need [{rows[i]}, {cols}].");
        }
        var type = _source.Describe(names[0]).Type;
        int total = rows.Sum();
        // Interleaved (gate/up): row i of every part in turn, so a fused SwiGLU finds each pair side by side.
        T[] Join<T>(IEnumerable<T[]> parts) => interleave ? InterleaveRows(parts.ToArray(), rows) : Concat(parts);
        string name = string.Join("+", names);
        var m = type switch
        {
            SourceType.F32 => WeightMatrix.UploadRaw(Device, Join(names.Select(_source.ReadRaw)), total, cols, TensorType.F32, name),
            SourceType.F16 => WeightMatrix.UploadRaw(Device, Join(names.Select(_source.ReadRaw)), total, cols, TensorType.F16, name),
            SourceType.Q8_0 => WeightMatrix.UploadRaw(Device, Join(names.Select((n, i) => Q8Rows.FromGgufBlocks(_source.ReadRaw(n), rows[i], cols))), total, cols, TensorType.Q8_0, name),
            SourceType.BF16 or SourceType.Q4_0 or SourceType.Q4_1 => WeightMatrix.Upload(Device, Join(names.Select(_source.ReadFloat32)), total, cols, TensorType.F32, name),
            _ => throw new NotSupportedException($"Tensor {names[0]} has type {type}, which the engine cannot run."),
        };
        Own(m.Buffer);
        return m;
    }

    /// <summary>Equal-height parts (rows of equal size) merged row by row: part 0 row 0, part 1 row 0, ..., part 0 row 1, ...</summary>
    private static T[] InterleaveRows<T>(T[][] parts, int[] rows)
    {
        int n = rows[0];
        if (rows.Any(r => r != n) || parts.Any(p => p.Length != parts[0].Length) || parts[0].Length % n != 0)
            throw new InvalidDataException("Interleaved projections need parts of equal shape.");
        int row = parts[0].Length / n;
        var o = new T[parts.Length * parts[0].Length];
        for (int r = 0; r < n; r++)
            for (int p = 0; p < parts.Length; p++)
                Array.Copy(parts[p], r * row, o, (r * parts.Length + p) * row, row);
        return o;
    }

    /// <summary>One array of the parts in order; a single part is returned as it is, without a copy.</summary>
    private static T[] Concat<T>(IEnumerable<T[]> parts)
    {
        var list = parts.ToList();
        return list.Count == 1 ? list[0] : list.SelectMany(p => p).ToArray();
    }

    /// <summary>
    /// Runs <paramref name="rows"/> through the model, writing each row's K/V into <paramref name="cache"/> at its
    /// slot, and returns logits and/or argmax for the rows listed in <paramref name="outputRows"/>.
    /// </summary>
    public ForwardOutput Forward(KvCache cache, ReadOnlySpan<ForwardRow> rows, ReadOnlySpan<int> outputRows, bool logits = true, bool argmax = false)
    {
        var c = Config;
        int n = rows.Length, nOut = outputRows.Length;
        if (n < 1 || n > Options.MaxRows) throw new ArgumentException($"A forward takes 1..{Options.MaxRows} rows, got {n}.");
        if (nOut > Options.MaxOutputRows) throw new ArgumentException($"A forward returns at most {Options.MaxOutputRows} rows, {nOut} asked.");
        if (cache.Layers != c.Layers) throw new ArgumentException("The KV cache belongs to a different model.");
        // Host copies of the row inputs, kept between forwards so a decode step allocates nothing for them.
        var pos = _posHost.AsSpan(0, n);
        var slots = _slotsHost.AsSpan(0, n);
        var vis = _visHost.AsSpan(0, n * 4);
        var tokens = _tokensHost.AsSpan(0, n);
        for (int i = 0; i < n; i++)
        {
            var row = rows[i];
            row.Validate(i, cache.Capacity, c.VocabSize);
            tokens[i] = row.Token;
            pos[i] = row.Position;
            slots[i] = (uint)row.Slot;
            vis[i * 4] = (uint)row.VisibleA; vis[i * 4 + 1] = (uint)row.VisibleB; vis[i * 4 + 2] = (uint)row.VisibleE;
        }
        foreach (var r in outputRows)
            if (r < 0 || r >= n) throw new ArgumentException($"Output row {r} is not one of the {n} rows.");

        long clock = System.Diagnostics.Stopwatch.GetTimestamp();
        var partials = AttentionPartials(cache.Capacity);
        // One recorder for the model's life: reset, not rebuilt, each forward.
        var rec = _recorder ??= new CommandRecorder(Device, timing: Options.TimeDispatches);
        if (_recorderUsed) rec.Reset();
        _recorderUsed = true;
        EmbedRows(tokens, _xHost.AsSpan(0, n * c.Dim));
        WriteInputs(rec, _xHost.AsSpan(0, n * c.Dim), pos, slots, vis);
        float scale = 1f / MathF.Sqrt(c.HeadDim);
        for (int l = 0; l < c.Layers; l++)
        {
            var L = _layers[l];
            var attnNorm = new FusedRmsNorm(L.AttnNorm, c.RmsEps);
            if (L.Qkv is not null) _k.MatMul(rec, L.Qkv, _x, _qkv, n, _variant, split: _qkvSplit, norm: attnNorm);
            else
            {
                _k.MatMul(rec, L.QkvParts[0], _x, _q, n, _variant, norm: attnNorm);
                _k.MatMul(rec, L.QkvParts[1], _x, _kb, n, _variant, norm: attnNorm);
                _k.MatMul(rec, L.QkvParts[2], _x, _vb, n, _variant, norm: attnNorm);
            }
            // Biases, q/k norms, RoPE and the K/V write in one dispatch.
            _k.QkvRopeStore(rec, _prologue, _q, _kb, _vb, L.AttnParams ?? _q, _pos, _slots, _qRot, cache.Keys[l], cache.Values[l], n, cache.Capacity, cache.HalfPrecision);
            _k.Attention(rec, _qRot, cache.Keys[l], cache.Values[l], _vis, _att, n, c.Heads, c.KvHeads, c.HeadDim, cache.Capacity, scale, cache.HalfPrecision, partials);
            _k.MatMul(rec, L.Wo, _att, _x, n, _variant, accumulate: true);  // x += attention output projection
            var ffnNorm = new FusedRmsNorm(L.FfnNorm, c.RmsEps);
            // Interleaved gate/up rows: one dispatch gives silu(gate) * up.
            if (L.GateUp is not null) _k.MatMul(rec, L.GateUp, _x, _gate, n, _variant, norm: ffnNorm, glu: true);
            else
            {
                _k.MatMul(rec, L.GateUpParts[0], _x, _gate, n, _variant, norm: ffnNorm);
                _k.MatMul(rec, L.GateUpParts[1], _x, _up, n, _variant, norm: ffnNorm);
                _k.SwiGlu(rec, _gate, _up, _gate, n * c.FfnDim);
            }
            _k.MatMul(rec, L.Wd, _gate, _x, n, _variant, accumulate: true);  // x += FFN output
        }
        if (nOut > 0)
        {
            Span<(ulong, ulong, ulong)> regions = nOut <= 64 ? stackalloc (ulong, ulong, ulong)[nOut] : new (ulong, ulong, ulong)[nOut];
            ulong rowBytes = (ulong)c.Dim * 4;
            for (int i = 0; i < nOut; i++) regions[i] = ((ulong)outputRows[i] * rowBytes, (ulong)i * rowBytes, rowBytes);
            rec.CopyRegions(_x, _xOut, regions);
            _k.MatMul(rec, _output, _xOut, _logits, nOut, _variant, _ldy, norm: new FusedRmsNorm(_outputNorm, c.RmsEps));
            if (argmax)
            {
                // Logit rows bound in chunks within maxStorageBufferRange; a multiple of 32 rows keeps the
                // argmax output offsets (8 bytes a row) on any storage alignment.
                ulong logitRow = (ulong)_ldy * 4;
                int per = (int)Math.Min((ulong)nOut, Device.Info.MaxStorageBufferRange / logitRow);
                if (per < nOut) per = Math.Max(32, per / 32 * 32);
                for (int r0 = 0; r0 < nOut; r0 += per)
                {
                    int rn = Math.Min(per, nOut - r0);
                    _k.Argmax(rec, _logits.Range((ulong)r0 * logitRow, Math.Min((ulong)rn * logitRow, _logits.Size - (ulong)r0 * logitRow)),
                        _argmax.Range((ulong)r0 * 8, (ulong)rn * 8), rn, c.VocabSize, _ldy);
                }
            }
        }
        if (_stageOut is not null && nOut > 0)
        {
            if (logits) rec.Copy(_logits.Range(0, (ulong)nOut * (ulong)_ldy * 4), _stageOut.Range(0, (ulong)nOut * (ulong)_ldy * 4));
            if (argmax) rec.Copy(_argmax.Range(0, (ulong)nOut * 8), _stageOut.Range(_logits.Size, (ulong)nOut * 8));
        }
        LastRecordMs = System.Diagnostics.Stopwatch.GetElapsedTime(clock).TotalMilliseconds;
        clock = System.Diagnostics.Stopwatch.GetTimestamp();
        rec.SubmitAndWait();
        LastSubmitMs = System.Diagnostics.Stopwatch.GetElapsedTime(clock).TotalMilliseconds;
        LastDispatches = rec.Dispatches;
        if (Options.TimeDispatches) LastTimings = rec.ReadTimings();

        if (nOut == 0) return new ForwardOutput();
        float[]? logitValues = null;
        if (logits)
        {
            var padded = _stageOut is null ? Device.Read<float>(_logits, nOut * _ldy)
                : System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(_stageOut.HostBytes)[..(nOut * _ldy)].ToArray();
            logitValues = new float[nOut * c.VocabSize];
            for (int i = 0; i < nOut; i++) padded.AsSpan(i * _ldy, c.VocabSize).CopyTo(logitValues.AsSpan(i * c.VocabSize));
        }
        (int, float)[]? best = null;
        if (argmax)
        {
            Span<uint> raw = nOut <= 256 ? stackalloc uint[nOut * 2] : new uint[nOut * 2];
            if (_stageOut is null) Device.Read<uint>(_argmax.Range(0, (ulong)nOut * 8), raw);
            else System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(_stageOut.HostBytes.Slice((int)_logits.Size))[..(nOut * 2)].CopyTo(raw);
            best = new (int, float)[nOut];
            for (int i = 0; i < nOut; i++) best[i] = ((int)raw[2 * i], BitConverter.UInt32BitsToSingle(raw[2 * i + 1]));
        }
        return new ForwardOutput { Logits = logitValues, Argmax = best };
    }

    /// <summary>Host inputs into the device buffers: directly where mapped, else staged inside <paramref name="rec"/>.</summary>
    private void WriteInputs(CommandRecorder rec, ReadOnlySpan<float> x, ReadOnlySpan<int> pos, ReadOnlySpan<uint> slots, ReadOnlySpan<uint> vis)
    {
        if (_stageIn is null)
        {
            Device.Write<float>(_x, x);
            Device.Write<int>(_pos, pos);
            Device.Write<uint>(_slots, slots);
            Device.Write<uint>(_vis, vis);
            return;
        }
        var stage = _stageIn;
        ulong offset = 0;
        void Stage<T>(ReadOnlySpan<T> data, GpuBuffer target) where T : unmanaged
        {
            var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(data);
            bytes.CopyTo(stage.HostBytes[(int)offset..]);
            if (bytes.Length > 0) rec.Copy(stage.Range(offset, (ulong)bytes.Length), target.Range(0, (ulong)bytes.Length));
            offset += target.Size;
        }
        Stage(x, _x);
        Stage(pos, _pos);
        Stage(slots, _slots);
        Stage(vis, _vis);
    }

    /// <summary>x [n, dim]: the embedding rows of the tokens, read from the weight source.</summary>
    private BufferRange? AttentionPartials(int capacity)
    {
        long floats = _k.AttentionPartialFloats(Options.MaxRows, Config.Heads, Config.HeadDim, capacity);
        if (floats == 0) return null;
        if (_attnPartials is null || _attnPartials.Size < (ulong)floats * 4)
        {
            _attnPartials?.Dispose();
            _attnPartials = null;
            _attnPartials = Device.Allocate((ulong)floats * 4, "attention-partials");
        }
        return _attnPartials.All;
    }

    private void EmbedRows(ReadOnlySpan<int> tokens, Span<float> x)
    {
        int dim = Config.Dim;
        for (int i = 0; i < tokens.Length; i++)
            _source.ReadFloat32Rows(TensorNames.TokenEmbedding, tokens[i], x.Slice(i * dim, dim));
    }

    public void Dispose()
    {
        _recorder?.Dispose();
        _recorder = null;
        _attnPartials?.Dispose();
        _attnPartials = null;
        foreach (var d in _owned) d.Dispose();
        _owned.Clear();
    }
}
