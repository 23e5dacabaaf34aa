namespace TiDAR.Engine.Gguf;

/// <summary>GGUF metadata value type ids (gguf.h's enum gguf_type) and the .NET types they map to.</summary>
internal enum GgufValueType : uint
{
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12,
}

internal static class GgufValueTypes
{
    public const uint Count = 13;

    /// <summary>Arrays may nest (an array of arrays) at most this deep; llama.cpp itself reads no nesting.</summary>
    public const int MaxArrayDepth = 8;

    /// <summary>Bytes of one fixed-size value; 0 for string and array.</summary>
    public static int FixedSize(GgufValueType t) => t switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
        _ => 0,
    };

    /// <summary>The fewest bytes one value of type <paramref name="t"/> can occupy in a file:
    /// a string is at least its u64 length, an array at least its u32 type and u64 count.</summary>
    public static int MinSize(GgufValueType t) => t switch
    {
        GgufValueType.String => 8,
        GgufValueType.Array => 12,
        _ => FixedSize(t),
    };

    public static string Name(GgufValueType t) => t switch
    {
        GgufValueType.UInt8 => "uint8",
        GgufValueType.Int8 => "int8",
        GgufValueType.UInt16 => "uint16",
        GgufValueType.Int16 => "int16",
        GgufValueType.UInt32 => "uint32",
        GgufValueType.Int32 => "int32",
        GgufValueType.Float32 => "float32",
        GgufValueType.Bool => "bool",
        GgufValueType.String => "string",
        GgufValueType.Array => "array",
        GgufValueType.UInt64 => "uint64",
        GgufValueType.Int64 => "int64",
        GgufValueType.Float64 => "float64",
        _ => $"type id {(uint)t}",
    };

    /// <summary>The GGUF type of a .NET scalar value, or null when it has none.</summary>
    public static GgufValueType? OfScalar(Type t)
    {
        if (t == typeof(byte)) return GgufValueType.UInt8;
        if (t == typeof(sbyte)) return GgufValueType.Int8;
        if (t == typeof(ushort)) return GgufValueType.UInt16;
        if (t == typeof(short)) return GgufValueType.Int16;
        if (t == typeof(uint)) return GgufValueType.UInt32;
        if (t == typeof(int)) return GgufValueType.Int32;
        if (t == typeof(float)) return GgufValueType.Float32;
        if (t == typeof(bool)) return GgufValueType.Bool;
        if (t == typeof(string)) return GgufValueType.String;
        if (t == typeof(ulong)) return GgufValueType.UInt64;
        if (t == typeof(long)) return GgufValueType.Int64;
        if (t == typeof(double)) return GgufValueType.Float64;
        return null;
    }

    /// <summary>How a metadata value reads in an error message: "uint32 7", "string \"llama\"", "array of 5 float32".</summary>
    public static string Describe(object? v)
    {
        switch (v)
        {
            case null: return "null";
            case string s: return $"string \"{(s.Length > 40 ? s[..40] + "..." : s)}\"";
            case object[] a when a.GetType() == typeof(object[]): return $"array of {a.Length} arrays";
            case Array a:
                var et = OfScalar(a.GetType().GetElementType()!);
                return $"array of {a.Length} {(et is { } e ? Name(e) : a.GetType().GetElementType()!.Name)}";
            default:
                var t = OfScalar(v.GetType());
                return t is { } k ? $"{Name(k)} {Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)}" : v.GetType().Name;
        }
    }

    /// <summary>The C# name of a requested type for error messages.</summary>
    public static string ClrName(Type t)
    {
        if (t.IsArray) return ClrName(t.GetElementType()!) + "[]";
        return t == typeof(byte) ? "byte" : t == typeof(sbyte) ? "sbyte" : t == typeof(ushort) ? "ushort"
            : t == typeof(short) ? "short" : t == typeof(uint) ? "uint" : t == typeof(int) ? "int"
            : t == typeof(ulong) ? "ulong" : t == typeof(long) ? "long" : t == typeof(float) ? "float"
            : t == typeof(double) ? "double" : t == typeof(bool) ? "bool" : t == typeof(string) ? "string"
            : t == typeof(object) ? "object" : t.Name;
    }
}
