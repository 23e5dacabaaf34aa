using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using TiDAR.Engine.Gguf;
using TiDAR.Engine.Vulkan;

namespace TiDAR.Engine.Model;

/// <summary>
/// A model of a named real shape with random weights: hyperparameters, a weight source and a line that
/// says what it is. For benchmarks and load tests where only the shape matters (cost per forward, free
/// token slots); it says nothing about quality, and TiDAR drafts from it are almost never accepted.
/// </summary>
public sealed record RandomModel(string Name, ModelConfig Config, SeededWeightSource Weights)
{
    public long Parameters => Weights.Parameters;

    public string Description =>
        $"random-weight {Name} ({ModelConfig.GgufName(Config.Architecture)}, vocab {Config.VocabSize}, dim {Config.Dim}, {Config.Layers} layers, " +
        $"{Config.Heads}/{Config.KvHeads} heads x {Config.HeadDim}, ffn {Config.FfnDim}, {Weights.MatrixType.ToString().ToLowerInvariant()}" +
        $"{(Config.TiedEmbeddings ? " tied" : " untied")}, {Parameters / 1e6:F1}M params, seed {Weights.Seed}, mask token {Config.MaskTokenId})";

    /// <summary>Uploads the weights (generated tensor by tensor) into a <see cref="GpuModel"/>.</summary>
    public GpuModel Load(GpuDevice device, GpuModelOptions? options = null) => new(device, Config, Weights, options);
}

/// <summary>
/// Random-weight models of named shapes (DESIGN.md: the free-slot profile of a real shape can be measured
/// without its checkpoint). Weights come from a fixed seed, matrices uniform with standard deviation
/// 1/sqrt(fan-in), norms 1 +- 0.1, biases +-0.1; see <see cref="SeededWeightSource"/>.
/// </summary>
public static class RandomModels
{
    public const int DefaultSeed = 1234;
    public const string Stories15M = "stories15m";
    public const string Qwen25_05B = "qwen2.5-0.5b";

    public static IReadOnlyList<string> Names { get; } = [Stories15M, Qwen25_05B];

    /// <summary>
    /// Hyperparameters of <paramref name="name"/>. The mask token is the last vocabulary id (TiDAR can
    /// run; nothing was trained to use it). stories15m (llama2.c's TinyStories 15M) was trained at 256
    /// tokens; the random one has no trained context, so it allows 4096 for context sweeps.
    /// </summary>
    public static ModelConfig Config(string name) => name.ToLowerInvariant() switch
    {
        Stories15M => new ModelConfig
        {
            Architecture = Architecture.Llama, VocabSize = 32000, Dim = 288, Layers = 6, Heads = 6, KvHeads = 6, HeadDim = 48, FfnDim = 768,
            RmsEps = 1e-5f, RopeBase = 10000f, ContextLength = 4096, TiedEmbeddings = false, MaskTokenId = 32000 - 1, BlockSize = 4,
        },
        Qwen25_05B => new ModelConfig
        {
            Architecture = Architecture.Qwen2, VocabSize = 151936, Dim = 896, Layers = 24, Heads = 14, KvHeads = 2, HeadDim = 64, FfnDim = 4864,
            RmsEps = 1e-6f, RopeBase = 1000000f, ContextLength = 32768, TiedEmbeddings = true, MaskTokenId = 151936 - 1, BlockSize = 4,
        },
        _ => throw new ArgumentException($"Unknown random model '{name}'; known: {string.Join(", ", Names)}."),
    };

    /// <summary>Encoding of the matrices: stories15m in f32 (as llama2.c ships it), qwen2.5-0.5b in q8_0.</summary>
    public static SourceType MatrixType(string name) => name.ToLowerInvariant() == Qwen25_05B ? SourceType.Q8_0 : SourceType.F32;

    /// <summary>The named model; weights are generated lazily, per tensor, when a <see cref="GpuModel"/> uploads them.</summary>
    public static RandomModel Create(string name, int seed = DefaultSeed, SourceType? matrixType = null)
    {
        var config = Config(name);
        return new RandomModel(name.ToLowerInvariant(), config, new SeededWeightSource(config, matrixType ?? MatrixType(name), seed));
    }
}

/// <summary>
/// Weights of a decoder generated from a seed on demand: each row of each tensor has its own generator
/// (SplitMix64 of seed, tensor and row), so a tensor, a row range (embedding lookups) or the raw q8_0
/// bytes are made without holding the model in memory and always with the same values. Matrices are
/// uniform in +-sqrt(3/fan-in) (standard deviation 1/sqrt(fan-in), activations stay O(1)); norms
/// 1 +- 0.1; q/k/v biases +-0.1. Q8_0 and F16 tensors hold the values those encodings give (quantized per
/// row with <see cref="GgmlQuant.QuantizeQ8_0"/>, which equals quantizing the whole tensor since rows
/// are whole blocks).
/// </summary>
public sealed class SeededWeightSource : IWeightSource
{
    private enum Kind { Matrix, Norm, Bias }
    private sealed record Entry(SourceTensor Info, Kind Kind, float Scale, ulong Seed);

    private readonly Dictionary<string, Entry> _tensors = new();
    // Embedding rows are read on every forward (host-side lookup); keep the ones already made.
    private readonly ConcurrentDictionary<(string, int), float[]> _rowCache = new();
    private const int RowCacheLimit = 8192;

    public int Seed { get; }
    public SourceType MatrixType { get; }
    public long Parameters { get; }

    public SeededWeightSource(ModelConfig c, SourceType matrixType, int seed)
    {
        if (matrixType is not (SourceType.F32 or SourceType.F16 or SourceType.Q8_0))
            throw new ArgumentException($"Random matrices are F32, F16 or Q8_0, not {matrixType}.");
        Seed = seed;
        MatrixType = matrixType;
        void Mat(string name, int rows, int cols) => Add(name, Kind.Matrix, MathF.Sqrt(3f / cols), [cols, rows], matrixType);
        void Vec(string name, Kind kind, int n) => Add(name, kind, 0.1f, [n], SourceType.F32);

        Mat(TensorNames.TokenEmbedding, c.VocabSize, c.Dim);
        if (!c.TiedEmbeddings) Mat(TensorNames.Output, c.VocabSize, c.Dim);
        Vec(TensorNames.OutputNorm, Kind.Norm, c.Dim);
        for (int l = 0; l < c.Layers; l++)
        {
            Vec(TensorNames.AttnNorm(l), Kind.Norm, c.Dim);
            Mat(TensorNames.Q(l), c.QDim, c.Dim);
            Mat(TensorNames.K(l), c.KvDim, c.Dim);
            Mat(TensorNames.V(l), c.KvDim, c.Dim);
            if (c.QkvBias)
            {
                Vec(TensorNames.QBias(l), Kind.Bias, c.QDim);
                Vec(TensorNames.KBias(l), Kind.Bias, c.KvDim);
                Vec(TensorNames.VBias(l), Kind.Bias, c.KvDim);
            }
            if (c.QkNorm)
            {
                Vec(TensorNames.QNorm(l), Kind.Norm, c.HeadDim);
                Vec(TensorNames.KNorm(l), Kind.Norm, c.HeadDim);
            }
            Mat(TensorNames.AttnOutput(l), c.Dim, c.QDim);
            Vec(TensorNames.FfnNorm(l), Kind.Norm, c.Dim);
            Mat(TensorNames.Gate(l), c.FfnDim, c.Dim);
            Mat(TensorNames.Up(l), c.FfnDim, c.Dim);
            Mat(TensorNames.Down(l), c.Dim, c.FfnDim);
        }
        Parameters = _tensors.Values.Sum(e => e.Info.Elements);
    }

    private void Add(string name, Kind kind, float scale, long[] dims, SourceType type)
    {
        var info = new SourceTensor(name, type, dims);
        if (type == SourceType.Q8_0 && dims[0] % GgmlQuant.QK != 0)
            throw new ArgumentException($"{name}: q8_0 rows must be a multiple of {GgmlQuant.QK} values, got {dims[0]}.");
        ulong tensorSeed = Mix((ulong)(uint)Seed * 0x9E3779B97F4A7C15UL ^ (ulong)_tensors.Count * 0xD1B54A32D192ED03UL);
        _tensors[name] = new Entry(info, kind, scale, tensorSeed);
    }

    public IEnumerable<string> Names => _tensors.Keys;
    public bool Contains(string name) => _tensors.ContainsKey(name);
    public SourceTensor Describe(string name) => Get(name).Info;

    public float[] ReadFloat32(string name)
    {
        var e = Get(name);
        var (rows, cols) = e.Info.Matrix;
        var values = new float[checked(rows * cols)];
        ForRows(rows, r => FillRow(e, r, values.AsSpan(r * cols, cols)));
        return values;
    }

    public float[] ReadFloat32Rows(string name, int firstRow, int count)
    {
        var values = new float[(long)count * Get(name).Info.Matrix.Cols];
        ReadFloat32Rows(name, firstRow, values);
        return values;
    }

    public void ReadFloat32Rows(string name, int firstRow, Span<float> destination)
    {
        var e = Get(name);
        var (rows, cols) = e.Info.Matrix;
        int count = destination.Length / cols;
        if (firstRow < 0 || destination.Length % cols != 0 || firstRow + count > rows)
            throw new ArgumentOutOfRangeException(nameof(firstRow), $"{name}: rows {firstRow}..{firstRow + count} out of range.");
        for (int i = 0; i < count; i++)
        {
            int r = firstRow + i;
            var slice = destination.Slice(i * cols, cols);
            if (_rowCache.TryGetValue((name, r), out var row)) { row.CopyTo(slice); continue; }
            FillRow(e, r, slice);
            if (_rowCache.Count < RowCacheLimit) _rowCache[(name, r)] = slice.ToArray();
        }
    }

    public byte[] ReadRaw(string name)
    {
        var e = Get(name);
        var (rows, cols) = e.Info.Matrix;
        switch (e.Info.Type)
        {
            case SourceType.F32:
                return MemoryMarshal.AsBytes(ReadFloat32(name).AsSpan()).ToArray();
            case SourceType.F16:
            {
                var raw = new byte[(long)rows * cols * 2];
                ForRows(rows, r =>
                {
                    var row = new float[cols];
                    FillRow(e, r, row);
                    System.Numerics.Tensors.TensorPrimitives.ConvertToHalf(row, MemoryMarshal.Cast<byte, Half>(raw.AsSpan(r * cols * 2, cols * 2)));
                });
                return raw;
            }
            case SourceType.Q8_0:
            {
                int rowBytes = cols / GgmlQuant.QK * 34;
                var raw = new byte[(long)rows * rowBytes];
                ForRows(rows, r =>
                {
                    var row = new float[cols];
                    Generate(e, r, row);
                    GgmlQuant.QuantizeQ8_0(row).CopyTo(raw.AsSpan((int)((long)r * rowBytes), rowBytes));
                });
                return raw;
            }
            default: throw new NotSupportedException($"{name}: type {e.Info.Type}.");
        }
    }

    /// <summary>Row r of a tensor as its encoding holds it (quantized and widened back for Q8_0/F16).</summary>
    private static void FillRow(Entry e, int r, Span<float> row)
    {
        Generate(e, r, row);
        switch (e.Info.Type)
        {
            case SourceType.Q8_0: GgmlQuant.DequantizeQ8_0(GgmlQuant.QuantizeQ8_0(row), row); break;
            case SourceType.F16:
                for (int i = 0; i < row.Length; i++) row[i] = (float)(Half)row[i];
                break;
        }
    }

    /// <summary>The exact fp32 values of row r before any encoding.</summary>
    private static void Generate(Entry e, int r, Span<float> row)
    {
        ulong state = e.Seed ^ ((ulong)(uint)r * 0xBF58476D1CE4E5B9UL);
        float offset = e.Kind == Kind.Norm ? 1f : 0f;
        for (int i = 0; i < row.Length; i++)
        {
            state += 0x9E3779B97F4A7C15UL;
            // Top 24 bits of SplitMix64 -> uniform [-1, 1).
            float u = (Mix(state) >> 40) * (2f / (1 << 24)) - 1f;
            row[i] = offset + u * e.Scale;
        }
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static void ForRows(int rows, Action<int> body)
    {
        if (rows < 64) { for (int r = 0; r < rows; r++) body(r); return; }
        Parallel.For(0, rows, body);
    }

    private Entry Get(string name) =>
        _tensors.TryGetValue(name, out var t) ? t : throw new InvalidDataException($"Tensor {name} is missing from the model.");
}
