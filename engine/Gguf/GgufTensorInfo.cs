namespace TiDAR.Engine.Gguf;

/// <summary>
/// One tensor as a GGUF file describes it. <see cref="Dimensions"/> are ggml's ne[], innermost
/// (contiguous) first, i.e. the reverse of a PyTorch shape; <see cref="Offset"/> is relative to the
/// start of the file's data section (<see cref="GgufFile.DataOffset"/>).
/// </summary>
public sealed record GgufTensorInfo(string Name, ulong[] Dimensions, GgmlType Type, ulong Offset)
{
    /// <summary>Product of the dimensions (throws <see cref="GgufFormatException"/> on overflow).</summary>
    public ulong ElementCount
    {
        get
        {
            ulong n = 1;
            foreach (var d in Dimensions)
            {
                if (d != 0 && n > ulong.MaxValue / d)
                    throw new GgufFormatException($"tensor '{Name}': element count of {Shape()} overflows 64 bits");
                n *= d;
            }
            return n;
        }
    }

    /// <summary>Bytes the tensor occupies in the data section: rows × <see cref="GgmlTypeInfo.RowBytes"/>.</summary>
    public ulong ByteSize
    {
        get
        {
            if (Dimensions.Length == 0) return Type.RowBytes(1);
            ulong size = Type.RowBytes(Dimensions[0]);
            for (int i = 1; i < Dimensions.Length; i++)
            {
                ulong d = Dimensions[i];
                if (d != 0 && size > ulong.MaxValue / d)
                    throw new GgufFormatException($"tensor '{Name}': byte size of {Shape()} {Type} overflows 64 bits");
                size *= d;
            }
            return size;
        }
    }

    /// <summary>The dimensions as "[ne0, ne1, ...]".</summary>
    public string Shape() => "[" + string.Join(", ", Dimensions) + "]";

    public override string ToString() => $"{Name} {Type} {Shape()} @ {Offset}";
}
