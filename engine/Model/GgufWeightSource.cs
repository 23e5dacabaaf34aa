using TiDAR.Engine.Gguf;

namespace TiDAR.Engine.Model;

/// <summary>Model weights read from a memory-mapped GGUF file (llama.cpp tensor names).</summary>
public sealed class GgufWeightSource : IWeightSource
{
    public GgufFile File { get; }

    public GgufWeightSource(GgufFile file) => File = file;

    public bool Contains(string name) => File.FindTensor(name) is not null;

    public SourceTensor Describe(string name)
    {
        var t = File.Tensor(name);
        return new SourceTensor(name, (SourceType)(uint)t.Type, t.Dimensions.Select(d => checked((long)d)).ToArray());
    }

    public float[] ReadFloat32(string name) => File.ReadAsFloat32(File.Tensor(name));

    public float[] ReadFloat32Rows(string name, int firstRow, int count)
    {
        var output = new float[(long)count * Describe(name).Matrix.Cols];
        ReadFloat32Rows(name, firstRow, output);
        return output;
    }

    public void ReadFloat32Rows(string name, int firstRow, Span<float> destination)
    {
        var t = File.Tensor(name);
        var (rows, cols) = Describe(name).Matrix;
        int count = destination.Length / cols;
        if (firstRow < 0 || destination.Length % cols != 0 || firstRow + count > rows)
            throw new ArgumentOutOfRangeException(nameof(firstRow), $"{name}: rows {firstRow}..{firstRow + count} outside 0..{rows}.");
        if (!GgmlQuant.CanDequantize(t.Type)) throw new NotSupportedException($"Tensor {name} has type {t.Type}, which the engine cannot read.");
        long rowBytes = checked((long)t.Type.RowBytes((ulong)cols));
        GgmlQuant.Dequantize(t.Type, File.TensorData(t, firstRow * rowBytes, checked((int)(count * rowBytes))), destination);
    }

    public byte[] ReadRaw(string name) => File.TensorData(File.Tensor(name)).ToArray();
}
