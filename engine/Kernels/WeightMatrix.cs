using TiDAR.Engine.Vulkan;

namespace TiDAR.Engine.Kernels;

/// <summary>A weight matrix W [Rows, Cols] on the device, row-major (Cols innermost, GGUF's ne0), in <see cref="Type"/>.</summary>
public sealed record WeightMatrix(GpuBuffer Buffer, TensorType Type, int Rows, int Cols)
{
    public ulong RowBytes => (ulong)Cols * (ulong)Type.BytesPerElement();
    public ulong Bytes => RowBytes * (ulong)Rows;

    /// <summary>Uploads fp32 values (converted to <paramref name="type"/>) as a new weight matrix.</summary>
    public static WeightMatrix Upload(GpuDevice device, ReadOnlySpan<float> values, int rows, int cols, TensorType type, string name)
    {
        if (values.Length != rows * cols) throw new ArgumentException($"{name}: {values.Length} values for a [{rows}, {cols}] matrix.");
        return type switch
        {
            TensorType.F32 => new WeightMatrix(device.Upload(values, name), type, rows, cols),
            TensorType.F16 => new WeightMatrix(device.Upload<Half>(ToHalf(values), name), type, rows, cols),
            _ => throw new NotSupportedException($"{name}: cannot upload type {type}."),
        };
    }

    public static Half[] ToHalf(ReadOnlySpan<float> values)
    {
        var h = new Half[values.Length];
        System.Numerics.Tensors.TensorPrimitives.ConvertToHalf(values, h);
        return h;
    }
}
