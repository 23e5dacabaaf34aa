using System.Text;
using System.Text.Json;

namespace TiDAR.Trainer.Export;

/// <summary>Writes a single-file safetensors checkpoint of f32 tensors (8-byte header length, JSON header, data).</summary>
public static class SafetensorsWriter
{
    public static void Write(string path, IReadOnlyList<(string Name, long[] Shape, float[] Data)> tensors)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteStartObject("__metadata__");
            w.WriteString("format", "pt");
            w.WriteEndObject();
            long offset = 0;
            foreach (var (name, shape, data) in tensors)
            {
                if (shape.Aggregate(1L, (a, b) => a * b) != data.Length) throw new ArgumentException($"{name}: shape does not match data");
                w.WriteStartObject(name);
                w.WriteString("dtype", "F32");
                w.WriteStartArray("shape");
                foreach (var d in shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + data.Length * 4L);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += data.Length * 4L;
            }
            w.WriteEndObject();
        }
        var header = ms.ToArray().ToList();
        while (header.Count % 8 != 0) header.Add((byte)' ');
        using var fs = File.Create(path);
        fs.Write(BitConverter.GetBytes((ulong)header.Count));
        fs.Write(header.ToArray());
        foreach (var (_, _, data) in tensors)
        {
            var bytes = new byte[data.Length * 4];
            Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
            fs.Write(bytes);
        }
    }
}
