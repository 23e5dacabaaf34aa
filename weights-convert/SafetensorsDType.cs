using TiDAR.Engine.Model;

namespace TiDAR.WeightsConvert;

/// <summary>Element types a .safetensors header can name. Only F32, F16 and BF16 can be converted; the others are
/// recognised so their offsets can still be checked against their sizes.</summary>
public enum SafetensorsDType
{
    Bool, U8, I8, F8_E5M2, F8_E4M3, F8_E8M0, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64,
}

public static class SafetensorsDTypes
{
    private static readonly Dictionary<string, SafetensorsDType> ByName = new(StringComparer.Ordinal)
    {
        ["BOOL"] = SafetensorsDType.Bool, ["U8"] = SafetensorsDType.U8, ["I8"] = SafetensorsDType.I8,
        ["F8_E5M2"] = SafetensorsDType.F8_E5M2, ["F8_E4M3"] = SafetensorsDType.F8_E4M3, ["F8_E8M0"] = SafetensorsDType.F8_E8M0,
        ["I16"] = SafetensorsDType.I16, ["U16"] = SafetensorsDType.U16, ["F16"] = SafetensorsDType.F16,
        ["BF16"] = SafetensorsDType.BF16, ["I32"] = SafetensorsDType.I32, ["U32"] = SafetensorsDType.U32,
        ["F32"] = SafetensorsDType.F32, ["F64"] = SafetensorsDType.F64, ["I64"] = SafetensorsDType.I64,
        ["U64"] = SafetensorsDType.U64,
    };

    /// <summary>The dtype spelled as in a safetensors header ("F32", "BF16", ...), or null for one this reader does not know.</summary>
    public static SafetensorsDType? TryParse(string name) => ByName.TryGetValue(name, out var t) ? t : null;

    public static string Name(this SafetensorsDType t) => t == SafetensorsDType.Bool ? "BOOL" : t.ToString();

    public static int Size(this SafetensorsDType t) => t switch
    {
        SafetensorsDType.Bool or SafetensorsDType.U8 or SafetensorsDType.I8
            or SafetensorsDType.F8_E5M2 or SafetensorsDType.F8_E4M3 or SafetensorsDType.F8_E8M0 => 1,
        SafetensorsDType.I16 or SafetensorsDType.U16 or SafetensorsDType.F16 or SafetensorsDType.BF16 => 2,
        SafetensorsDType.I32 or SafetensorsDType.U32 or SafetensorsDType.F32 => 4,
        SafetensorsDType.F64 or SafetensorsDType.I64 or SafetensorsDType.U64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    /// <summary>Whether the converter can read tensors of this type.</summary>
    public static bool IsSupported(this SafetensorsDType t) => t is SafetensorsDType.F32 or SafetensorsDType.F16 or SafetensorsDType.BF16;

    public const string SupportedList = "F32, F16, BF16";

    public static SourceType ToSourceType(this SafetensorsDType t) => t switch
    {
        SafetensorsDType.F32 => SourceType.F32,
        SafetensorsDType.F16 => SourceType.F16,
        SafetensorsDType.BF16 => SourceType.BF16,
        _ => throw new NotSupportedException($"safetensors dtype {t.Name()} is not supported; supported: {SupportedList}."),
    };
}
