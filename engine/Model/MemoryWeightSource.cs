using System.Runtime.InteropServices;

namespace TiDAR.Engine.Model;

/// <summary>Weights held in memory as fp32, fp16 or q8_0: what tests and the trainer build models from.</summary>
public sealed class MemoryWeightSource : IWeightSource
{
    private readonly Dictionary<string, (SourceTensor Info, float[] Values, byte[]? Raw)> _tensors = new();

    /// <summary>Adds a tensor; dims innermost first (GGUF order). F16 and Q8_0 keep the values as those encodings hold them.</summary>
    public void Add(string name, float[] values, long[] dims, SourceType type = SourceType.F32)
    {
        var info = new SourceTensor(name, type, dims);
        if (info.Elements != values.Length) throw new ArgumentException($"{name}: {values.Length} values for dims [{string.Join(", ", dims)}].");
        byte[]? raw = null;
        switch (type)
        {
            case SourceType.F32: break;
            case SourceType.F16: values = Reference.ReferenceOps.RoundToHalf(values); break;
            case SourceType.Q8_0:
                raw = Gguf.GgmlQuant.QuantizeQ8_0(values);
                values = new float[values.Length];
                Gguf.GgmlQuant.DequantizeQ8_0(raw, values);
                break;
            default: throw new NotSupportedException($"In-memory tensors are F32, F16 or Q8_0, not {type}.");
        }
        _tensors[name] = (info, values, raw);
    }

    public IEnumerable<string> Names => _tensors.Keys;
    public bool Contains(string name) => _tensors.ContainsKey(name);
    public SourceTensor Describe(string name) => Get(name).Info;
    public float[] ReadFloat32(string name) => Get(name).Values.ToArray();

    public float[] ReadFloat32Rows(string name, int firstRow, int count)
    {
        var (info, values, _) = Get(name);
        int cols = info.Matrix.Cols;
        if (firstRow < 0 || count < 0 || firstRow + count > info.Matrix.Rows) throw new ArgumentOutOfRangeException(nameof(firstRow), $"{name}: rows {firstRow}..{firstRow + count} out of range.");
        return values.AsSpan(firstRow * cols, count * cols).ToArray();
    }

    public void ReadFloat32Rows(string name, int firstRow, Span<float> destination)
    {
        var (info, values, _) = Get(name);
        int cols = info.Matrix.Cols, count = destination.Length / cols;
        if (firstRow < 0 || destination.Length % cols != 0 || firstRow + count > info.Matrix.Rows)
            throw new ArgumentOutOfRangeException(nameof(firstRow), $"{name}: rows {firstRow}..{firstRow + count} out of range.");
        values.AsSpan(firstRow * cols, destination.Length).CopyTo(destination);
    }

    public byte[] ReadRaw(string name)
    {
        var (info, values, raw) = Get(name);
        if (raw is not null) return raw.ToArray();
        return info.Type == SourceType.F16
            ? MemoryMarshal.AsBytes(Kernels.WeightMatrix.ToHalf(values).AsSpan()).ToArray()
            : MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
    }

    private (SourceTensor Info, float[] Values, byte[]? Raw) Get(string name) =>
        _tensors.TryGetValue(name, out var t) ? t : throw new InvalidDataException($"Tensor {name} is missing from the model.");
}
