namespace TiDAR.Engine.Gguf;

/// <summary>
/// The conversions <see cref="GgufFile.Get{T}"/> allows: the stored type itself, or a numeric value
/// (or array of them) asked for as another numeric type when every value survives exactly
/// (uint32 7 as int, long or double; float32 as double; never 300 as byte or 0.1 (double) as float).
/// </summary>
internal static class GgufValueConvert
{
    public static bool TryConvert(object value, Type target, out object? result, out string why)
    {
        why = "";
        result = null;
        if (target.IsInstanceOfType(value)) { result = value; return true; }

        if (target.IsArray && target.GetArrayRank() == 1 && value is Array src && value.GetType() != typeof(object[]))
        {
            var elementTarget = target.GetElementType()!;
            if (!IsNumeric(elementTarget) || !IsNumeric(src.GetType().GetElementType()!))
            {
                why = " (different element type)";
                return false;
            }
            var dst = Array.CreateInstanceFromArrayType(target, src.Length);
            for (int i = 0; i < src.Length; i++)
            {
                if (!TryScalar(src.GetValue(i)!, elementTarget, out var e, out var w))
                {
                    why = $" (element {i}: {GgufValueTypes.Describe(src.GetValue(i))}{w})";
                    return false;
                }
                dst.SetValue(e, i);
            }
            result = dst;
            return true;
        }

        if (IsNumeric(target) && IsNumeric(value.GetType()))
            return TryScalar(value, target, out result, out why);

        why = " (different type)";
        return false;
    }

    private static bool IsNumeric(Type t) => t == typeof(byte) || t == typeof(sbyte) || t == typeof(ushort) || t == typeof(short)
        || t == typeof(uint) || t == typeof(int) || t == typeof(ulong) || t == typeof(long) || t == typeof(float) || t == typeof(double);

    private static bool TryInteger(object v, out Int128 x)
    {
        switch (v)
        {
            case byte a: x = a; return true;
            case sbyte a: x = a; return true;
            case ushort a: x = a; return true;
            case short a: x = a; return true;
            case uint a: x = a; return true;
            case int a: x = a; return true;
            case ulong a: x = a; return true;
            case long a: x = a; return true;
            default: x = 0; return false;
        }
    }

    private static bool TryScalar(object v, Type target, out object? result, out string why)
    {
        why = "";
        result = null;
        if (target == v.GetType()) { result = v; return true; }
        if (TryInteger(v, out var x))
        {
            result = target == typeof(byte) ? (x >= byte.MinValue && x <= byte.MaxValue ? (byte)x : null)
                : target == typeof(sbyte) ? (x >= sbyte.MinValue && x <= sbyte.MaxValue ? (sbyte)x : null)
                : target == typeof(ushort) ? (x >= ushort.MinValue && x <= ushort.MaxValue ? (ushort)x : null)
                : target == typeof(short) ? (x >= short.MinValue && x <= short.MaxValue ? (short)x : null)
                : target == typeof(uint) ? (x >= uint.MinValue && x <= uint.MaxValue ? (uint)x : null)
                : target == typeof(int) ? (x >= int.MinValue && x <= int.MaxValue ? (int)x : null)
                : target == typeof(ulong) ? (x >= ulong.MinValue && x <= ulong.MaxValue ? (ulong)x : null)
                : target == typeof(long) ? (x >= long.MinValue && x <= long.MaxValue ? (long)x : null)
                : target == typeof(float) ? ((Int128)(float)x == x ? (float)x : null)
                : target == typeof(double) ? ((Int128)(double)x == x ? (double)x : null)
                : null;
            if (result is null) why = target == typeof(float) || target == typeof(double) ? " (not exactly representable)" : " (out of range)";
            return result is not null;
        }
        if (v is float f && target == typeof(double)) { result = (double)f; return true; }
        if (v is double d && target == typeof(float))
        {
            if (double.IsNaN(d) || (double)(float)d == d) { result = (float)d; return true; }
            why = " (not exactly representable as float)";
            return false;
        }
        why = " (a floating-point value is not read as an integer)";
        return false;
    }
}
