namespace TiDAR.WeightsConvert;

/// <summary>One tensor of a .safetensors header, validated against the file. <see cref="DType"/> is null when the
/// header names a dtype this reader does not know (<see cref="DTypeName"/> keeps the spelling). Shape is as
/// written (PyTorch order, outermost first); offsets are relative to the start of the data section.</summary>
public sealed record SafetensorsTensorInfo(string Name, string DTypeName, SafetensorsDType? DType, long[] Shape, long Begin, long End)
{
    public long ByteCount => End - Begin;

    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in Shape) n = checked(n * d);
            return n;
        }
    }

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
