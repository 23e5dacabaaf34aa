using System.Buffers.Binary;
using TiDAR.WeightsConvert;

namespace TiDAR.Tests.Convert;

/// <summary>Truncated and mutated files must open cleanly or fail with InvalidDataException / NotSupportedException:
/// never another exception, a crash, a hang or a huge allocation.</summary>
public class SafetensorsFuzzTests
{
    private static void OpenAndReadAll(string path)
    {
        try
        {
            using var f = SafetensorsFile.Open(path);
            foreach (var t in f.Tensors)
            {
                if (t.DType is { } d && d.IsSupported())
                {
                    var bytes = f.Data(t);
                    Assert.Equal(t.ByteCount, bytes.Length);
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException) { }
    }

    [Fact]
    public void EveryTruncationFailsCleanly()
    {
        using var dir = new TempDir();
        var bytes = SafetensorsTestWriter.Build(SafetensorsFileTests.Sample(), new Dictionary<string, string> { ["format"] = "pt" });
        string path = dir.File("t.safetensors");
        for (int len = 0; len < bytes.Length; len++)
        {
            File.WriteAllBytes(path, bytes[..len]);
            var e = Record.Exception(() => SafetensorsFile.Open(path).Dispose());
            Assert.True(e is InvalidDataException, $"truncated to {len} of {bytes.Length} bytes: {e?.GetType().Name ?? "no exception"} {e?.Message}");
        }
    }

    [Fact]
    public void MutatedBytesFailCleanly()
    {
        using var dir = new TempDir();
        var original = SafetensorsTestWriter.Build(SafetensorsFileTests.Sample(), new Dictionary<string, string> { ["format"] = "pt" });
        int headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(original);
        string path = dir.File("m.safetensors");
        byte[] values = [0x00, 0xFF, (byte)'"', (byte)'{', (byte)'}', (byte)'[', (byte)',', (byte)'9', (byte)'-', (byte)'.', (byte)'e', 0x80, 0xC3];
        var rng = new Random(5);
        for (int pos = 0; pos < headerEnd; pos++)
        {
            // Every position with a few structural / numeric / invalid-UTF-8 bytes, plus a random one.
            foreach (var v in values.OrderBy(_ => rng.Next()).Take(4).Append((byte)rng.Next(256)))
            {
                var bytes = (byte[])original.Clone();
                if (bytes[pos] == v) continue;
                bytes[pos] = v;
                File.WriteAllBytes(path, bytes);
                var e = Record.Exception(() => OpenAndReadAll(path));
                Assert.True(e is null, $"byte {pos} set to 0x{v:X2}: {e?.GetType().Name} {e?.Message}");
            }
        }
        // Multi-byte damage: digits grown inside numbers, random spans overwritten.
        for (int trial = 0; trial < 300; trial++)
        {
            var bytes = (byte[])original.Clone();
            int start = rng.Next(headerEnd), n = rng.Next(1, 9);
            for (int i = start; i < Math.Min(headerEnd, start + n); i++) bytes[i] = (byte)"0123456789\"{}[],:-eE "[rng.Next(21)];
            File.WriteAllBytes(path, bytes);
            var e = Record.Exception(() => OpenAndReadAll(path));
            Assert.True(e is null, $"trial {trial}: {e?.GetType().Name} {e?.Message}");
        }
    }
}
