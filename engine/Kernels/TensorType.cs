namespace TiDAR.Engine.Kernels;

/// <summary>Encodings of weight matrices on the device; values are ggml's type ids, as in GGUF files.</summary>
public enum TensorType : uint
{
    F32 = 0,
    F16 = 1,
    /// <summary>ggml q8_0 values, stored on the device in the row-repacked layout of <see cref="Q8Rows"/>.</summary>
    Q8_0 = 8,
}

public static class TensorTypeInfo
{
    /// <summary>Device bytes of one row of <paramref name="cols"/> values.</summary>
    public static ulong RowBytes(this TensorType t, int cols) => t switch
    {
        TensorType.F32 => (ulong)cols * 4,
        TensorType.F16 => (ulong)cols * 2,
        TensorType.Q8_0 => Q8Rows.RowBytes(cols),
        _ => throw new NotSupportedException($"Tensor type {t} is not supported on the device."),
    };

    /// <summary>The shaders' W_TYPE specialization constant (weights.glsl).</summary>
    internal static uint ShaderCode(this TensorType t) => t switch
    {
        TensorType.F32 => 0,
        TensorType.F16 => 1,
        TensorType.Q8_0 => 8,
        _ => throw new NotSupportedException($"Tensor type {t} has no kernel."),
    };

    /// <summary>Whether a matrix with rows of <paramref name="cols"/> values can use this type.</summary>
    public static void CheckColumns(this TensorType t, int cols, string name)
    {
        if (t == TensorType.Q8_0 && cols % Q8Rows.BlockSize != 0)
            throw new ArgumentException($"{name}: q8_0 rows must be a multiple of {Q8Rows.BlockSize} values, got {cols}.");
    }
}

/// <summary>
/// ggml q8_0 (blocks of 32: an fp16 scale d and 32 int8 q, value = d*q, 34 bytes) repacked per row for
/// the GPU: the row's K int8 quants, then its K/32 scales as fp32. GGUF's 34-byte blocks are not
/// 4-byte aligned; this layout gives whole-word loads and keeps rows contiguous, so a matrix can
/// still be bound in row chunks. Row size K + K/8 bytes (1.125 bytes per value).
/// </summary>
public static class Q8Rows
{
    public const int BlockSize = 32;
    public const int GgufBlockBytes = 34;

    public static ulong RowBytes(int cols) => (ulong)cols + (ulong)cols / 8;

    /// <summary>Repacks GGUF q8_0 blocks of a [rows, cols] matrix into the device layout.</summary>
    public static byte[] FromGgufBlocks(ReadOnlySpan<byte> blocks, int rows, int cols)
    {
        if (cols % BlockSize != 0) throw new ArgumentException($"q8_0 rows must be a multiple of {BlockSize} values, got {cols}.");
        int blocksPerRow = cols / BlockSize;
        if (blocks.Length != (long)rows * blocksPerRow * GgufBlockBytes)
            throw new ArgumentException($"q8_0 data of {blocks.Length} bytes does not match a [{rows}, {cols}] matrix.");
        int rowBytes = (int)RowBytes(cols);
        var output = new byte[(long)rows * rowBytes];
        for (int r = 0; r < rows; r++)
        {
            var dst = output.AsSpan(r * rowBytes, rowBytes);
            var scales = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(dst[cols..]);
            for (int b = 0; b < blocksPerRow; b++)
            {
                var block = blocks.Slice((r * blocksPerRow + b) * GgufBlockBytes, GgufBlockBytes);
                scales[b] = (float)BitConverter.ToHalf(block[..2]);
                block.Slice(2, BlockSize).CopyTo(dst.Slice(b * BlockSize, BlockSize));
            }
        }
        return output;
    }
}
