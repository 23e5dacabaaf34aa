using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace TiDAR.Engine.Gguf;

/// <summary>
/// ggml block encodings on the CPU, bit-compatible with llama.cpp's reference (ggml-quants.c *_ref):
///   block_q8_0 = { fp16 d; int8 qs[32] }                       34 bytes, x = d * q
///   block_q4_0 = { fp16 d; uint8 qs[16] }                      18 bytes, x = d * (nibble - 8)
///   block_q4_1 = { fp16 d; fp16 m; uint8 qs[16] }              20 bytes, x = d * nibble + m
///   block_q5_0 = { fp16 d; uint8 qh[4]; uint8 qs[16] }         22 bytes, x = d * (5-bit - 16)
///   block_q5_1 = { fp16 d; fp16 m; uint8 qh[4]; uint8 qs[16] } 24 bytes, x = d * 5-bit + m
/// In the 4/5-bit blocks byte j holds element j in its low nibble and element j + 16 in its high
/// nibble; qh bit j is the fifth bit of element j (bits 0-15) and of element j + 16 (bits 16-31).
/// All multi-byte fields are little-endian.
/// </summary>
public static class GgmlQuant
{
    public const int QK = 32;
    private const int Q8_0Bytes = 34, Q4_0Bytes = 18, Q4_1Bytes = 20, Q5_0Bytes = 22, Q5_1Bytes = 24;

    // ---------------------------------------------------------------- Q8_0

    /// <summary>As llama.cpp's quantize_row_q8_0_ref: per block of 32, d = max|x| / 127, q = round(x / d)
    /// (half away from zero, computed with the fp32 d), d stored as fp16.</summary>
    public static byte[] QuantizeQ8_0(ReadOnlySpan<float> values)
    {
        int nb = Blocks(values.Length, nameof(values));
        var output = new byte[nb * Q8_0Bytes];
        for (int b = 0; b < nb; b++)
        {
            var x = values.Slice(b * QK, QK);
            var y = output.AsSpan(b * Q8_0Bytes, Q8_0Bytes);
            float amax = 0f;
            for (int j = 0; j < QK; j++) amax = MathF.Max(amax, MathF.Abs(x[j]));
            float d = amax / 127f;
            float id = d != 0f ? 1f / d : 0f;
            WriteHalf(y, d);
            for (int j = 0; j < QK; j++)
                y[2 + j] = (byte)(sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero);
        }
        return output;
    }

    public static void DequantizeQ8_0(ReadOnlySpan<byte> blocks, Span<float> output)
    {
        int nb = CheckSizes(blocks, output, Q8_0Bytes, "Q8_0");
        for (int b = 0; b < nb; b++)
        {
            var x = blocks.Slice(b * Q8_0Bytes, Q8_0Bytes);
            var y = output.Slice(b * QK, QK);
            float d = ReadHalf(x, 0);
            var qs = MemoryMarshal.Cast<byte, sbyte>(x.Slice(2, QK));
            for (int j = 0; j < QK; j++) y[j] = qs[j] * d;
        }
    }

    // ---------------------------------------------------------------- Q4_0

    /// <summary>As llama.cpp's quantize_row_q4_0_ref: d = (the value of largest magnitude) / -8,
    /// nibble = min(15, trunc(x / d + 8.5)).</summary>
    public static byte[] QuantizeQ4_0(ReadOnlySpan<float> values)
    {
        int nb = Blocks(values.Length, nameof(values));
        var output = new byte[nb * Q4_0Bytes];
        for (int b = 0; b < nb; b++)
        {
            var x = values.Slice(b * QK, QK);
            var y = output.AsSpan(b * Q4_0Bytes, Q4_0Bytes);
            float amax = 0f, max = 0f;
            for (int j = 0; j < QK; j++)
            {
                float a = MathF.Abs(x[j]);
                if (amax < a) { amax = a; max = x[j]; }
            }
            float d = max / -8f;
            float id = d != 0f ? 1f / d : 0f;
            WriteHalf(y, d);
            for (int j = 0; j < QK / 2; j++)
            {
                int lo = Math.Min(15, (int)(sbyte)(x[j] * id + 8.5f));
                int hi = Math.Min(15, (int)(sbyte)(x[j + QK / 2] * id + 8.5f));
                y[2 + j] = (byte)((lo & 0x0F) | (hi << 4));
            }
        }
        return output;
    }

    public static void DequantizeQ4_0(ReadOnlySpan<byte> blocks, Span<float> output)
    {
        int nb = CheckSizes(blocks, output, Q4_0Bytes, "Q4_0");
        for (int b = 0; b < nb; b++)
        {
            var x = blocks.Slice(b * Q4_0Bytes, Q4_0Bytes);
            var y = output.Slice(b * QK, QK);
            float d = ReadHalf(x, 0);
            for (int j = 0; j < QK / 2; j++)
            {
                byte q = x[2 + j];
                y[j] = ((q & 0x0F) - 8) * d;
                y[j + QK / 2] = ((q >> 4) - 8) * d;
            }
        }
    }

    // ---------------------------------------------------------------- Q4_1

    /// <summary>As llama.cpp's quantize_row_q4_1_ref: m = min, d = (max - min) / 15,
    /// nibble = min(15, trunc((x - m) / d + 0.5)).</summary>
    public static byte[] QuantizeQ4_1(ReadOnlySpan<float> values)
    {
        int nb = Blocks(values.Length, nameof(values));
        var output = new byte[nb * Q4_1Bytes];
        for (int b = 0; b < nb; b++)
        {
            var x = values.Slice(b * QK, QK);
            var y = output.AsSpan(b * Q4_1Bytes, Q4_1Bytes);
            float min = float.MaxValue, max = -float.MaxValue;
            for (int j = 0; j < QK; j++)
            {
                if (x[j] < min) min = x[j];
                if (x[j] > max) max = x[j];
            }
            float d = (max - min) / 15f;
            float id = d != 0f ? 1f / d : 0f;
            WriteHalf(y, d);
            WriteHalf(y.Slice(2), min);
            for (int j = 0; j < QK / 2; j++)
            {
                int lo = Math.Min(15, (int)(sbyte)((x[j] - min) * id + 0.5f));
                int hi = Math.Min(15, (int)(sbyte)((x[j + QK / 2] - min) * id + 0.5f));
                y[4 + j] = (byte)((lo & 0x0F) | (hi << 4));
            }
        }
        return output;
    }

    public static void DequantizeQ4_1(ReadOnlySpan<byte> blocks, Span<float> output)
    {
        int nb = CheckSizes(blocks, output, Q4_1Bytes, "Q4_1");
        for (int b = 0; b < nb; b++)
        {
            var x = blocks.Slice(b * Q4_1Bytes, Q4_1Bytes);
            var y = output.Slice(b * QK, QK);
            float d = ReadHalf(x, 0), m = ReadHalf(x, 2);
            for (int j = 0; j < QK / 2; j++)
            {
                byte q = x[4 + j];
                y[j] = (q & 0x0F) * d + m;
                y[j + QK / 2] = (q >> 4) * d + m;
            }
        }
    }

    // ---------------------------------------------------------------- Q5_0 / Q5_1 (dequantize only)

    public static void DequantizeQ5_0(ReadOnlySpan<byte> blocks, Span<float> output)
    {
        int nb = CheckSizes(blocks, output, Q5_0Bytes, "Q5_0");
        for (int b = 0; b < nb; b++)
        {
            var x = blocks.Slice(b * Q5_0Bytes, Q5_0Bytes);
            var y = output.Slice(b * QK, QK);
            float d = ReadHalf(x, 0);
            uint qh = BinaryPrimitives.ReadUInt32LittleEndian(x.Slice(2));
            for (int j = 0; j < QK / 2; j++)
            {
                byte q = x[6 + j];
                int lo = (q & 0x0F) | (int)(((qh >> j) << 4) & 0x10);
                int hi = (q >> 4) | (int)((qh >> (j + 12)) & 0x10);
                y[j] = (lo - 16) * d;
                y[j + QK / 2] = (hi - 16) * d;
            }
        }
    }

    public static void DequantizeQ5_1(ReadOnlySpan<byte> blocks, Span<float> output)
    {
        int nb = CheckSizes(blocks, output, Q5_1Bytes, "Q5_1");
        for (int b = 0; b < nb; b++)
        {
            var x = blocks.Slice(b * Q5_1Bytes, Q5_1Bytes);
            var y = output.Slice(b * QK, QK);
            float d = ReadHalf(x, 0), m = ReadHalf(x, 2);
            uint qh = BinaryPrimitives.ReadUInt32LittleEndian(x.Slice(4));
            for (int j = 0; j < QK / 2; j++)
            {
                byte q = x[8 + j];
                int lo = (q & 0x0F) | (int)(((qh >> j) << 4) & 0x10);
                int hi = (q >> 4) | (int)((qh >> (j + 12)) & 0x10);
                y[j] = lo * d + m;
                y[j + QK / 2] = hi * d + m;
            }
        }
    }

    // ---------------------------------------------------------------- F16 / BF16

    /// <summary>IEEE binary16, round to nearest even (as ggml's GGML_FP32_TO_FP16).</summary>
    public static byte[] ToF16(ReadOnlySpan<float> values)
    {
        var output = new byte[checked(values.Length * 2)];
        TensorPrimitives.ConvertToHalf(values, MemoryMarshal.Cast<byte, Half>(output.AsSpan()));
        return output;
    }

    public static void FromF16(ReadOnlySpan<byte> data, Span<float> output)
    {
        CheckPlain(data, output, 2, "F16");
        TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(data), output);
    }

    /// <summary>bfloat16 = the top 16 bits of the fp32, rounded to nearest even; NaNs stay (quiet) NaNs
    /// (as ggml's ggml_compute_fp32_to_bf16).</summary>
    public static byte[] ToBF16(ReadOnlySpan<float> values)
    {
        var output = new byte[checked(values.Length * 2)];
        var dst = MemoryMarshal.Cast<byte, ushort>(output.AsSpan());
        var src = MemoryMarshal.Cast<float, uint>(values);
        for (int i = 0; i < src.Length; i++) dst[i] = ToBF16Bits(src[i]);
        return output;
    }

    public static void FromBF16(ReadOnlySpan<byte> data, Span<float> output)
    {
        CheckPlain(data, output, 2, "BF16");
        var src = MemoryMarshal.Cast<byte, ushort>(data);
        var dst = MemoryMarshal.Cast<float, uint>(output);
        for (int i = 0; i < src.Length; i++) dst[i] = (uint)src[i] << 16;
    }

    internal static ushort ToBF16Bits(uint u)
    {
        if ((u & 0x7FFF_FFFF) > 0x7F80_0000) return (ushort)((u >> 16) | 0x40); // NaN: keep sign/payload, force quiet
        return (ushort)((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
    }

    // ---------------------------------------------------------------- any type

    /// <summary>Whether <see cref="Dequantize"/> handles <paramref name="type"/>.</summary>
    public static bool CanDequantize(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16
        or GgmlType.F64 or GgmlType.I8 or GgmlType.I16 or GgmlType.I32 or GgmlType.I64
        or GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1;

    /// <summary>Decodes whole blocks of <paramref name="type"/> into floats; <paramref name="output"/> must hold
    /// exactly the elements those blocks encode. Integer types are converted to the nearest float.</summary>
    public static void Dequantize(GgmlType type, ReadOnlySpan<byte> blocks, Span<float> output)
    {
        switch (type)
        {
            case GgmlType.F32:
                CheckPlain(blocks, output, 4, "F32");
                MemoryMarshal.Cast<byte, float>(blocks).CopyTo(output);
                break;
            case GgmlType.F16: FromF16(blocks, output); break;
            case GgmlType.BF16: FromBF16(blocks, output); break;
            case GgmlType.F64:
                CheckPlain(blocks, output, 8, "F64");
                TensorPrimitives.ConvertTruncating(MemoryMarshal.Cast<byte, double>(blocks), output);
                break;
            case GgmlType.I8:
                CheckPlain(blocks, output, 1, "I8");
                TensorPrimitives.ConvertTruncating(MemoryMarshal.Cast<byte, sbyte>(blocks), output);
                break;
            case GgmlType.I16:
                CheckPlain(blocks, output, 2, "I16");
                TensorPrimitives.ConvertTruncating(MemoryMarshal.Cast<byte, short>(blocks), output);
                break;
            case GgmlType.I32:
                CheckPlain(blocks, output, 4, "I32");
                TensorPrimitives.ConvertTruncating(MemoryMarshal.Cast<byte, int>(blocks), output);
                break;
            case GgmlType.I64:
                CheckPlain(blocks, output, 8, "I64");
                TensorPrimitives.ConvertTruncating(MemoryMarshal.Cast<byte, long>(blocks), output);
                break;
            case GgmlType.Q8_0: DequantizeQ8_0(blocks, output); break;
            case GgmlType.Q4_0: DequantizeQ4_0(blocks, output); break;
            case GgmlType.Q4_1: DequantizeQ4_1(blocks, output); break;
            case GgmlType.Q5_0: DequantizeQ5_0(blocks, output); break;
            case GgmlType.Q5_1: DequantizeQ5_1(blocks, output); break;
            default:
                throw new NotSupportedException($"Dequantizing ggml type {type} (id {(uint)type}) to float32 is not supported; supported: F32, F16, BF16, F64, I8, I16, I32, I64, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1.");
        }
    }

    // ---------------------------------------------------------------- helpers

    private static float ReadHalf(ReadOnlySpan<byte> s, int at) => (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(s.Slice(at)));

    private static void WriteHalf(Span<byte> s, float v) => BinaryPrimitives.WriteUInt16LittleEndian(s, BitConverter.HalfToUInt16Bits((Half)v));

    private static int Blocks(int count, string name)
    {
        if (count % QK != 0)
            throw new ArgumentException($"{count} values are not a whole number of {QK}-value blocks.", name);
        return count / QK;
    }

    private static int CheckSizes(ReadOnlySpan<byte> blocks, Span<float> output, int blockBytes, string type)
    {
        if (blocks.Length % blockBytes != 0)
            throw new ArgumentException($"{blocks.Length} bytes are not a whole number of {type} blocks ({blockBytes} bytes each).", nameof(blocks));
        int nb = blocks.Length / blockBytes;
        if ((long)nb * QK != output.Length)
            throw new ArgumentException($"{nb} {type} blocks hold {(long)nb * QK} values but the output has room for {output.Length}.", nameof(output));
        return nb;
    }

    private static void CheckPlain(ReadOnlySpan<byte> data, Span<float> output, int elementBytes, string type)
    {
        if ((long)output.Length * elementBytes != data.Length)
            throw new ArgumentException($"{data.Length} bytes of {type} do not match an output of {output.Length} floats ({elementBytes} bytes each).", nameof(data));
    }
}
