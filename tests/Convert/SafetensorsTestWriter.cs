using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace TiDAR.Tests.Convert;

/// <summary>A tensor as the test writer stores it: name, safetensors dtype string, PyTorch shape, raw little-endian bytes.</summary>
public sealed record StTensor(string Name, string DType, long[] Shape, byte[] Data);

/// <summary>
/// The tests' own, independent .safetensors writer: 8-byte little-endian header length, a JSON header padded with
/// spaces to a multiple of 8, tensors back to back with offsets relative to the end of the header.
/// </summary>
public static class SafetensorsTestWriter
{
    public static byte[] Build(IEnumerable<StTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        var header = new MemoryStream();
        using (var w = new Utf8JsonWriter(header))
        {
            w.WriteStartObject();
            if (metadata is not null)
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in list)
            {
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", t.DType);
                w.WriteStartArray("shape");
                foreach (var d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + t.Data.Length);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += t.Data.Length;
            }
            w.WriteEndObject();
        }
        var json = header.ToArray().ToList();
        while (json.Count % 8 != 0) json.Add((byte)' ');
        var file = new MemoryStream();
        var len = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)json.Count);
        file.Write(len);
        file.Write(json.ToArray());
        foreach (var t in list) file.Write(t.Data);
        return file.ToArray();
    }

    public static void Write(string path, IEnumerable<StTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        File.WriteAllBytes(path, Build(tensors, metadata));

    /// <summary>A file whose header is the given JSON text (no padding) followed by <paramref name="dataBytes"/> zero bytes.</summary>
    public static byte[] Raw(string headerJson, int dataBytes)
    {
        var json = Encoding.UTF8.GetBytes(headerJson);
        var file = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)json.Length);
        json.CopyTo(file, 8);
        return file;
    }

    public static StTensor Tensor(string name, string dtype, long[] shape, float[] values) => new(name, dtype, shape, Encode(values, dtype));

    public static byte[] Encode(float[] values, string dtype)
    {
        switch (dtype)
        {
            case "F32":
            {
                var b = new byte[values.Length * 4];
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(i * 4), values[i]);
                return b;
            }
            case "F16":
            {
                var b = new byte[values.Length * 2];
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteHalfLittleEndian(b.AsSpan(i * 2), (Half)values[i]);
                return b;
            }
            case "BF16":
            {
                var b = new byte[values.Length * 2];
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(i * 2), Bf16Bits(values[i]));
                return b;
            }
            default: throw new ArgumentException($"test writer: no float encoding for {dtype}");
        }
    }

    /// <summary>The value a float becomes when stored as <paramref name="dtype"/> and read back.</summary>
    public static float Round(float v, string dtype) => dtype switch
    {
        "F32" => v,
        "F16" => (float)(Half)v,
        "BF16" => BitConverter.Int32BitsToSingle(Bf16Bits(v) << 16),
        _ => throw new ArgumentException(dtype),
    };

    /// <summary>fp32 -> bf16 bits, round to nearest even (finite inputs).</summary>
    public static ushort Bf16Bits(float v)
    {
        uint u = BitConverter.SingleToUInt32Bits(v);
        uint lower = u & 0xFFFF, upper = u >> 16;
        if (lower > 0x8000 || (lower == 0x8000 && (upper & 1) == 1)) upper++;
        return (ushort)upper;
    }
}
