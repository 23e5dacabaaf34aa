using TiDAR.Engine.Vulkan;

namespace TiDAR.Engine.Kernels;

/// <summary>
/// A weight matrix W [Rows, Cols] on the device, row-major (Cols innermost, GGUF's ne0), each row
/// <see cref="RowBytes"/> bytes in <see cref="Type"/>'s device layout.
/// </summary>
public sealed record WeightMatrix(GpuBuffer Buffer, TensorType Type, int Rows, int Cols)
{
    public ulong RowBytes => Type.RowBytes(Cols);
    public ulong Bytes => RowBytes * (ulong)Rows;

    /// <summary>Uploads fp32 values as an fp32 or fp16 matrix.</summary>
    public static WeightMatrix Upload(GpuDevice device, ReadOnlySpan<float> values, int rows, int cols, TensorType type, string name)
    {
        if (values.Length != (long)rows * cols) throw new ArgumentException($"{name}: {values.Length} values for a [{rows}, {cols}] matrix.");
        return type switch
        {
            TensorType.F32 => new WeightMatrix(device.Upload(values, name), type, rows, cols),
            TensorType.F16 => new WeightMatrix(device.Upload<Half>(ToHalf(values), name), type, rows, cols),
            _ => throw new NotSupportedException($"{name}: fp32 values cannot be uploaded as {type}; quantize them first."),
        };
    }

    /// <summary>Uploads bytes already in the device layout of <paramref name="type"/>.</summary>
    public static WeightMatrix UploadRaw(GpuDevice device, ReadOnlySpan<byte> data, int rows, int cols, TensorType type, string name)
    {
        type.CheckColumns(cols, name);
        if ((ulong)data.Length != type.RowBytes(cols) * (ulong)rows)
            throw new ArgumentException($"{name}: {data.Length} bytes for a [{rows}, {cols}] {type} matrix.");
        return new WeightMatrix(device.Upload(data, name), type, rows, cols);
    }

    public static Half[] ToHalf(ReadOnlySpan<float> values)
    {
        var h = new Half[values.Length];
        System.Numerics.Tensors.TensorPrimitives.ConvertToHalf(values, h);
        return h;
    }
}
