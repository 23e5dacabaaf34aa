using System.Buffers.Binary;
using System.Diagnostics;
using TiDAR.Engine.Gguf;
using Xunit.Abstractions;

namespace TiDAR.Tests.Gguf;

/// <summary>
/// Hostile files: every truncation and many byte mutations of a valid file must either open (and then every
/// tensor reads without trouble) or fail with <see cref="GgufFormatException"/>; nothing else may escape.
/// </summary>
public sealed class GgufCorruptionTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly ITestOutputHelper _out;
    private readonly byte[] _valid;
    private readonly long _dataOffset;

    public GgufCorruptionTests(ITestOutputHelper output)
    {
        _out = output;
        string path = _dir.File("valid.gguf");
        var x = Enumerable.Range(0, 128).Select(i => MathF.Cos(i * 0.3f) * (1 + i % 3)).ToArray();
        using (var w = new GgufWriter(path))
        {
            w.SetMetadata("general.architecture", "llama");
            w.SetMetadata("llama.block_count", 2u);
            w.SetMetadata("llama.rope.freq_base", 10000f);
            w.SetMetadata("tokenizer.ggml.tokens", new[] { "<s>", "</s>", "hi", "▁there" });
            w.SetMetadata("tokenizer.ggml.scores", new[] { 0f, 0f, -1.5f, -2f });
            w.SetMetadata("nested", new object[] { new[] { 1, 2 }, new[] { "z" } });
            w.SetMetadata("flag", true);
            w.AddTensor("f32", GgmlType.F32, [8, 2]);
            w.AddTensor("f16", GgmlType.F16, [16]);
            w.AddTensor("bf16", GgmlType.BF16, [4, 2, 2]);
            w.AddTensor("q8", GgmlType.Q8_0, [32, 2]);
            w.AddTensor("q4", GgmlType.Q4_0, [32]);
            w.AddTensor("q41", GgmlType.Q4_1, [64]);
            w.WriteTensorData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(x.AsSpan(0, 16)));
            w.WriteTensorData(GgmlQuant.ToF16(x.AsSpan(0, 16)));
            w.WriteTensorData(GgmlQuant.ToBF16(x.AsSpan(0, 16)));
            w.WriteTensorData(GgmlQuant.QuantizeQ8_0(x.AsSpan(0, 64)));
            w.WriteTensorData(GgmlQuant.QuantizeQ4_0(x.AsSpan(0, 32)));
            w.WriteTensorData(GgmlQuant.QuantizeQ4_1(x.AsSpan(0, 64)));
            w.Finish();
        }
        _valid = File.ReadAllBytes(path);
        using var f = GgufFile.Open(path);
        _dataOffset = f.DataOffset;
        Exercise(f);
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>Reads everything a loader would; must not throw anything but GgufFormatException / NotSupportedException.</summary>
    private static void Exercise(GgufFile f)
    {
        foreach (var (k, v) in f.Metadata)
        {
            Assert.NotNull(v);
            f.TryGet<string>(k, out _);
            f.TryGet<long>(k, out _);
            f.TryGet<int[]>(k, out _);
        }
        try { _ = f.Architecture; } catch (GgufFormatException) { }
        foreach (var t in f.Tensors)
        {
            Assert.Same(t, f.Tensor(t.Name));
            var bytes = f.TensorData(t);
            Assert.Equal(t.ByteSize, (ulong)bytes.Length);
            Assert.True(f.DataOffset + (long)t.Offset + bytes.Length <= f.FileSize);
            if (GgmlQuant.CanDequantize(t.Type)) Assert.Equal(t.ElementCount, (ulong)f.ReadAsFloat32(t).Length);
            else Assert.Throws<NotSupportedException>(() => f.ReadAsFloat32(t));
        }
    }

    private enum Outcome { Opened, Rejected }

    private Outcome Attempt(byte[] bytes, string path, string what)
    {
        File.WriteAllBytes(path, bytes);
        try
        {
            using var f = GgufFile.Open(path);
            Exercise(f);
            return Outcome.Opened;
        }
        catch (GgufFormatException e)
        {
            Assert.Contains(path, e.Message);
            return Outcome.Rejected;
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name} escaped instead of GgufFormatException: {e}");
            throw;
        }
    }

    [Fact]
    public void EveryTruncationIsRejectedOrHarmless()
    {
        var sw = Stopwatch.StartNew();
        string path = _dir.File("cut.gguf");
        int opened = 0;
        for (int len = 0; len < _valid.Length; len++)
        {
            var o = Attempt(_valid[..len], path, $"truncated to {len} bytes");
            if (o == Outcome.Opened)
            {
                opened++;
                // Only cutting the zero padding after the last tensor can leave a usable file.
                Assert.True(len >= _valid.Length - 31, $"a file cut to {len} of {_valid.Length} bytes opened");
            }
        }
        // Every cut inside the header names the problem "truncated"/"ends".
        for (int len = 0; len < _dataOffset; len += 7)
        {
            File.WriteAllBytes(path, _valid[..len]);
            var e = Assert.Throws<GgufFormatException>(() => GgufFile.Open(path));
            Assert.True(e.Message.Contains("truncated") || e.Message.Contains("ends") || e.Message.Contains("remain") || e.Message.Contains("left"), e.Message);
        }
        _out.WriteLine($"{_valid.Length} truncations, {opened} opened, {sw.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void HeaderByteMutationsAreRejectedOrHarmless()
    {
        var sw = Stopwatch.StartNew();
        string path = _dir.File("mut.gguf");
        var rng = new Random(1234);
        int opened = 0, rejected = 0;
        for (int at = 0; at < _dataOffset; at++)
        {
            foreach (byte v in new byte[] { 0x00, 0xFF, (byte)rng.Next(256), (byte)(_valid[at] ^ 0x80), (byte)(_valid[at] + 1) })
            {
                if (v == _valid[at]) continue;
                var bytes = (byte[])_valid.Clone();
                bytes[at] = v;
                if (Attempt(bytes, path, $"byte {at} set to 0x{v:X2}") == Outcome.Opened) opened++; else rejected++;
            }
        }
        _out.WriteLine($"single-byte mutations: {opened} opened, {rejected} rejected, {sw.ElapsedMilliseconds} ms");
        Assert.True(rejected > opened);
    }

    [Fact]
    public void RandomMultiByteAndFieldMutationsAreRejectedOrHarmless()
    {
        var sw = Stopwatch.StartNew();
        string path = _dir.File("rnd.gguf");
        var rng = new Random(99);
        ulong[] nasty = [0, 1, 2, 3, 4, 5, 31, 32, 33, 63, 64, 255, 256, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0000,
                         (ulong)_valid.Length, (ulong)_valid.Length - 8, long.MaxValue, (ulong)long.MaxValue + 1, ulong.MaxValue, ulong.MaxValue - 7,
                         1ul << 62, 1ul << 32 | 1, 0x1000_0000_0000];
        for (int iter = 0; iter < 3000; iter++)
        {
            var bytes = (byte[])_valid.Clone();
            string what;
            if (iter % 2 == 0)
            {
                // A little-endian 32- or 64-bit field anywhere in the header set to an edge value.
                int width = rng.Next(2) == 0 ? 4 : 8;
                int at = rng.Next(0, (int)_dataOffset - width + 1);
                ulong v = nasty[rng.Next(nasty.Length)];
                if (width == 4) BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), (uint)v);
                else BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(at), v);
                what = $"u{width * 8} at {at} set to {v}";
            }
            else
            {
                int n = rng.Next(1, 9);
                for (int k = 0; k < n; k++) bytes[rng.Next(0, bytes.Length)] = (byte)rng.Next(256);
                what = $"{n} random bytes (seed 99, iteration {iter})";
            }
            Attempt(bytes, path, what);
        }
        _out.WriteLine($"3000 random mutations, {sw.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void HostileCountsFailFastWithClearMessages()
    {
        string path = _dir.File("counts.gguf");
        var bytes = (byte[])_valid.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(16), ulong.MaxValue); // kv count
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<GgufFormatException>(() => GgufFile.Open(path));
        Assert.Contains("metadata count", e.Message);
        Assert.Equal(16, e.Offset);

        bytes = (byte[])_valid.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), 1ul << 40); // tensor count
        File.WriteAllBytes(path, bytes);
        Assert.Contains("tensor count", Assert.Throws<GgufFormatException>(() => GgufFile.Open(path)).Message);

        // The first key's length (offset 24) claiming most of memory.
        bytes = (byte[])_valid.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(24), 1ul << 50);
        File.WriteAllBytes(path, bytes);
        e = Assert.Throws<GgufFormatException>(() => GgufFile.Open(path));
        Assert.Contains("key of metadata entry 0", e.Message);
        Assert.Equal(24, e.Offset);
    }
}
