using System.Runtime.InteropServices;

namespace TiDAR.Engine.Model;

/// <summary>Weights held in memory as fp32 or fp16: what tests and the trainer build models from.</summary>
public sealed class MemoryWeightSource : IWeightSource
{
    private readonly Dictionary<string, (SourceTensor Info, float[] Values)> _tensors = new();

    /// <summary>Adds a tensor; dims innermost first (GGUF order). F16 stores the values rounded to half.</summary>
    public void Add(string name, float[] values, long[] dims, SourceType type = SourceType.F32)
    {
        if (type is not (SourceType.F32 or SourceType.F16)) throw new NotSupportedException($"In-memory tensors are F32 or F16, not {type}.");
        var info = new SourceTensor(name, type, dims);
        if (info.Elements != values.Length) throw new ArgumentException($"{name}: {values.Length} values for dims [{string.Join(", ", dims)}].");
        if (type == SourceType.F16) values = Reference.ReferenceOps.RoundToHalf(values);
        _tensors[name] = (info, values);
    }

    public IEnumerable<string> Names => _tensors.Keys;
    public bool Contains(string name) => _tensors.ContainsKey(name);
    public SourceTensor Describe(string name) => Get(name).Info;
    public float[] ReadFloat32(string name) => Get(name).Values.ToArray();

    public float[] ReadFloat32Rows(string name, int firstRow, int count)
    {
        var (info, values) = Get(name);
        int cols = info.Matrix.Cols;
        if (firstRow < 0 || count < 0 || firstRow + count > info.Matrix.Rows) throw new ArgumentOutOfRangeException(nameof(firstRow), $"{name}: rows {firstRow}..{firstRow + count} out of range.");
        return values.AsSpan(firstRow * cols, count * cols).ToArray();
    }

    public byte[] ReadRaw(string name)
    {
        var (info, values) = Get(name);
        return info.Type == SourceType.F16
            ? MemoryMarshal.AsBytes(Kernels.WeightMatrix.ToHalf(values).AsSpan()).ToArray()
            : MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
    }

    private (SourceTensor Info, float[] Values) Get(string name) =>
        _tensors.TryGetValue(name, out var t) ? t : throw new InvalidDataException($"Tensor {name} is missing from the model.");
}
