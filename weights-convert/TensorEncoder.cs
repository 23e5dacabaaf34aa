using System.Runtime.InteropServices;
using TiDAR.Engine.Gguf;

namespace TiDAR.WeightsConvert;

/// <summary>Encodes fp32 values as a GGUF tensor type (whole Q8_0 blocks).</summary>
public static class TensorEncoder
{
    public static ReadOnlySpan<byte> Encode(GgmlType type, ReadOnlySpan<float> values) => type switch
    {
        GgmlType.F32 => MemoryMarshal.AsBytes(values),
        GgmlType.F16 => GgmlQuant.ToF16(values),
        GgmlType.BF16 => GgmlQuant.ToBF16(values),
        GgmlType.Q8_0 => GgmlQuant.QuantizeQ8_0(values),
        _ => throw new NotSupportedException($"The converter cannot write ggml type {type}."),
    };

    /// <summary>Whether stored safetensors bytes can be copied as they are.</summary>
    public static bool SameEncoding(SafetensorsDType source, GgmlType target) =>
        (source, target) is (SafetensorsDType.F32, GgmlType.F32) or (SafetensorsDType.F16, GgmlType.F16) or (SafetensorsDType.BF16, GgmlType.BF16);
}
