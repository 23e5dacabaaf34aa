using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using TiDAR.Engine.Gguf;

namespace TiDAR.Tests.Gguf;

public sealed class GgufRoundTripTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static byte[] Bytes(float[] x) => MemoryMarshal.AsBytes(x.AsSpan()).ToArray();

    private static float[] Ramp(int n, float scale = 0.01f) => Enumerable.Range(0, n).Select(i => MathF.Sin(i * 0.37f) * scale * (1 + i % 5)).ToArray();

    [Fact]
    public void EveryMetadataTypeRoundTripsInOrder()
    {
        var values = new List<(string, object)>
        {
            ("general.architecture", "llama"),
            ("v.u8", (byte)200), ("v.i8", (sbyte)-100), ("v.u16", (ushort)60000), ("v.i16", (short)-30000),
            ("v.u32", 4000000000u), ("v.i32", -2000000000), ("v.u64", ulong.MaxValue), ("v.i64", long.MinValue),
            ("v.f32", 3.25f), ("v.f64", Math.PI), ("v.true", true), ("v.false", false),
            ("v.str", "héllo\n世界 \U0001F600"), ("v.empty", ""),
            ("a.u8", new byte[] { 1, 2, 255 }), ("a.i8", new sbyte[] { -1, 0, 1 }), ("a.u16", new ushort[] { 1, 65535 }),
            ("a.i16", new short[] { -5, 5 }), ("a.u32", new uint[] { 0, 7, uint.MaxValue }), ("a.i32", new[] { -1, 2, int.MaxValue }),
            ("a.u64", new ulong[] { 9 }), ("a.i64", new long[] { -9, long.MaxValue }), ("a.f32", new[] { 0.5f, -1e30f, float.NaN }),
            ("a.f64", new[] { 1e300, -0.0 }), ("a.bool", new[] { true, false, true }), ("a.str", new[] { "a", "", "ü<0x0A>", "▁the" }),
            ("a.empty", Array.Empty<int>()),
            ("a.nested", new object[] { new[] { 1, 2 }, new[] { "x" }, new object[] { new[] { 3f } }, Array.Empty<byte>() }),
            ("a.objscalars", new object[] { 5u, 6u }),
            ("a.objempty", Array.Empty<object>()),
            ("a.strempty", Array.Empty<string>()),
            ("a.jagged", new int[][] { [1], [2, 3] }),
        };
        string path = _dir.File("meta.gguf");
        using (var w = new GgufWriter(path))
        {
            foreach (var (k, v) in values) w.SetMetadata(k, v);
            w.Finish();
        }
        using var f = GgufFile.Open(path);
        Assert.Equal(3u, f.Version);
        Assert.Equal(32ul, f.Alignment);
        Assert.Empty(f.Tensors);
        Assert.Equal("llama", f.Architecture);
        Assert.Equal(values.Select(v => v.Item1), f.Metadata.Keys);
        foreach (var (k, v) in values)
        {
            var got = f.Metadata[k];
            if (k == "a.jagged")
            {
                var n = Assert.IsType<object[]>(got);
                Assert.Equal(new[] { 1 }, Assert.IsType<int[]>(n[0]));
                Assert.Equal(new[] { 2, 3 }, Assert.IsType<int[]>(n[1]));
            }
            else if (k == "a.objscalars") Assert.Equal(new uint[] { 5, 6 }, Assert.IsType<uint[]>(got));
            else if (k == "a.nested")
            {
                var n = Assert.IsType<object[]>(got);
                Assert.Equal(new[] { 1, 2 }, Assert.IsType<int[]>(n[0]));
                Assert.Equal(new[] { "x" }, Assert.IsType<string[]>(n[1]));
                Assert.Equal(new[] { 3f }, Assert.IsType<float[]>(Assert.IsType<object[]>(n[2])[0]));
                Assert.Empty(Assert.IsType<byte[]>(n[3]));
            }
            else
            {
                Assert.Equal(v.GetType(), got.GetType());
                Assert.Equal(v, got);
            }
        }
    }

    [Fact]
    public void GetConvertsOnlyWhenLossless()
    {
        string path = _dir.File("get.gguf");
        using (var w = new GgufWriter(path))
        {
            w.SetMetadata("u32", 7u);
            w.SetMetadata("big", 4000000000u);
            w.SetMetadata("f32", 0.5f);
            w.SetMetadata("f64", 0.1);
            w.SetMetadata("neg", (sbyte)-3);
            w.SetMetadata("arr", new uint[] { 1, 2, 3 });
            w.SetMetadata("s", "text");
            w.SetMetadata("general.architecture", 5);
            w.Finish();
        }
        using var f = GgufFile.Open(path);
        Assert.Equal(7u, f.Get<uint>("u32"));
        Assert.Equal(7, f.Get<int>("u32"));
        Assert.Equal(7L, f.Get<long>("u32"));
        Assert.Equal(7UL, f.Get<ulong>("u32"));
        Assert.Equal((byte)7, f.Get<byte>("u32"));
        Assert.Equal(7.0, f.Get<double>("u32"));
        Assert.Equal(4000000000L, f.Get<long>("big"));
        Assert.Equal(0.5, f.Get<double>("f32"));
        Assert.Equal(-3, f.Get<int>("neg"));
        Assert.Equal(new[] { 1, 2, 3 }, f.Get<int[]>("arr"));
        Assert.Equal(new long[] { 1, 2, 3 }, f.Get<long[]>("arr"));
        Assert.Equal("text", f.Get<string>("s"));
        Assert.Equal(7u, f.Get<object>("u32"));

        var e = Assert.Throws<GgufFormatException>(() => f.Get<int>("big"));
        Assert.Contains("'big'", e.Message);
        Assert.Contains("uint32", e.Message);
        Assert.Contains("int", e.Message);
        Assert.Contains(path, e.Message);
        Assert.Throws<GgufFormatException>(() => f.Get<uint>("neg"));
        Assert.Throws<GgufFormatException>(() => f.Get<float>("f64"));
        Assert.Throws<GgufFormatException>(() => f.Get<int>("f32"));
        Assert.Throws<GgufFormatException>(() => f.Get<string>("u32"));
        Assert.Equal(new byte[] { 1, 2, 3 }, f.Get<byte[]>("arr"));
        Assert.Throws<GgufFormatException>(() => f.Get<string[]>("arr"));
        Assert.Contains("holds string \"text\"", Assert.Throws<GgufFormatException>(() => f.Get<int>("s")).Message);
        Assert.Throws<GgufFormatException>(() => f.Get<sbyte[]>("big") );
        var missing = Assert.Throws<GgufFormatException>(() => f.Get<int>("nope"));
        Assert.Contains("'nope'", missing.Message);
        Assert.Contains("missing", missing.Message);
        var arch = Assert.Throws<GgufFormatException>(() => f.Architecture);
        Assert.Contains("general.architecture", arch.Message);

        Assert.True(f.TryGet<int>("u32", out var i) && i == 7);
        Assert.False(f.TryGet<int>("big", out _));
        Assert.False(f.TryGet<int>("nope", out _));
        Assert.False(f.TryGet<string>("u32", out _));
    }

    [Theory]
    [InlineData(32u)]
    [InlineData(1u)]
    [InlineData(8u)]
    [InlineData(64u)]
    [InlineData(4096u)]
    public void TensorsOfSeveralTypesRoundTripWithAlignment(uint alignment)
    {
        var f32 = Ramp(3 * 5, 1f);
        var f16src = Ramp(48);
        var bf16src = Ramp(2 * 3 * 4 * 5, 3f);
        var q8src = Ramp(64 * 3);
        var q4src = Ramp(32 * 2);
        var q41src = Ramp(96);
        var tensors = new (string Name, GgmlType Type, ulong[] Dims, byte[] Data)[]
        {
            ("f32", GgmlType.F32, [5, 3], Bytes(f32)),
            ("f16", GgmlType.F16, [48], GgmlQuant.ToF16(f16src)),
            ("bf16", GgmlType.BF16, [5, 4, 3, 2], GgmlQuant.ToBF16(bf16src)),
            ("q8", GgmlType.Q8_0, [64, 3], GgmlQuant.QuantizeQ8_0(q8src)),
            ("q4", GgmlType.Q4_0, [32, 2, 1], GgmlQuant.QuantizeQ4_0(q4src)),
            ("q41", GgmlType.Q4_1, [96], GgmlQuant.QuantizeQ4_1(q41src)),
            ("i32", GgmlType.I32, [3], MemoryMarshal.AsBytes(new[] { -1, 0, 70000 }.AsSpan()).ToArray()),
            ("q6k", GgmlType.Q6_K, [256], Enumerable.Range(0, 210).Select(i => (byte)i).ToArray()),
        };
        string path = _dir.File($"t{alignment}.gguf");
        using (var w = new GgufWriter(path, alignment))
        {
            w.SetMetadata("general.architecture", "test");
            foreach (var t in tensors) w.AddTensor(t.Name, t.Type, t.Dims);
            foreach (var t in tensors)
            {
                // uneven chunks: 1 byte, then 7, then the rest
                var d = t.Data.AsSpan();
                int a = Math.Min(1, d.Length), b = Math.Min(7, d.Length - a);
                w.WriteTensorData(d[..a]);
                w.WriteTensorData(d.Slice(a, b));
                w.WriteTensorData(d[(a + b)..]);
            }
            w.Finish();
        }
        Assert.Equal(new[] { $"t{alignment}.gguf" }, _dir.Entries().Where(e => e.StartsWith($"t{alignment}.")).ToArray());

        using var f = GgufFile.Open(path);
        Assert.Equal((ulong)alignment, f.Alignment);
        if (alignment != 32) Assert.Equal(alignment, f.Get<uint>("general.alignment"));
        else Assert.False(f.Metadata.ContainsKey("general.alignment"));
        Assert.Equal(0, f.DataOffset % alignment);
        Assert.Equal(new FileInfo(path).Length, f.FileSize);
        Assert.Equal(tensors.Select(t => t.Name), f.Tensors.Select(t => t.Name));
        foreach (var t in tensors)
        {
            var info = f.Tensor(t.Name);
            Assert.Equal(t.Type, info.Type);
            Assert.Equal(t.Dims, info.Dimensions);
            Assert.Equal(0ul, info.Offset % alignment);
            Assert.Equal((ulong)t.Data.Length, info.ByteSize);
            Assert.Equal(t.Dims.Aggregate(1ul, (p, d) => p * d), info.ElementCount);
            Assert.Equal(t.Data, f.TensorData(info).ToArray());
            Assert.Equal(t.Data.AsSpan(3, 5).ToArray(), f.TensorData(info, 3, 5).ToArray());
        }
        Assert.Equal(f32, f.ReadAsFloat32(f.Tensor("f32")));
        Assert.Equal(f16src.Select(v => (float)(Half)v), f.ReadAsFloat32(f.Tensor("f16")));
        var bf = f.ReadAsFloat32(f.Tensor("bf16"));
        for (int i = 0; i < bf.Length; i++) Assert.True(MathF.Abs(bf[i] - bf16src[i]) <= MathF.Abs(bf16src[i]) / 256);
        var q8 = new float[q8src.Length];
        GgmlQuant.DequantizeQ8_0(tensors[3].Data, q8);
        Assert.Equal(q8, f.ReadAsFloat32(f.Tensor("q8")));
        for (int i = 0; i < q8.Length; i++) Assert.True(MathF.Abs(q8[i] - q8src[i]) < 0.001f);
        var q4 = new float[q4src.Length];
        GgmlQuant.DequantizeQ4_0(tensors[4].Data, q4);
        Assert.Equal(q4, f.ReadAsFloat32(f.Tensor("q4")));
        var q41 = new float[q41src.Length];
        GgmlQuant.DequantizeQ4_1(tensors[5].Data, q41);
        Assert.Equal(q41, f.ReadAsFloat32(f.Tensor("q41")));
        Assert.Equal(new[] { -1f, 0f, 70000f }, f.ReadAsFloat32(f.Tensor("i32")));
        var ns = Assert.Throws<NotSupportedException>(() => f.ReadAsFloat32(f.Tensor("q6k")));
        Assert.Contains("Q6_K", ns.Message);

        Assert.Null(f.FindTensor("nope"));
        var missing = Assert.Throws<GgufFormatException>(() => f.Tensor("nope"));
        Assert.Contains("'nope'", missing.Message);
        var info0 = f.Tensor("f32");
        Assert.Throws<ArgumentOutOfRangeException>(() => f.TensorData(info0, 50, 20).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => f.TensorData(info0, -1, 2).Length);
        Assert.Throws<ArgumentException>(() => f.TensorData(info0 with { Offset = 1ul << 40 }).Length);
    }

    [Fact]
    public void ReaderMatchesAHandBuiltFile()
    {
        // Written byte by byte from the format description, independently of GgufWriter.
        var ms = new MemoryStream();
        var w = new BinaryWriter(ms);
        void Str(string s) { var b = Encoding.UTF8.GetBytes(s); w.Write((ulong)b.Length); w.Write(b); }
        w.Write("GGUF"u8); w.Write(3u); w.Write(2ul); w.Write(3ul);
        Str("general.architecture"); w.Write(8u); Str("qwen3");
        Str("qwen3.block_count"); w.Write(4u); w.Write(28u);
        Str("tokenizer.ggml.tokens"); w.Write(9u); w.Write(8u); w.Write(2ul); Str("a"); Str("bc");
        Str("token_embd.weight"); w.Write(2u); w.Write(4ul); w.Write(2ul); w.Write(0u); w.Write(0ul);
        Str("output_norm.weight"); w.Write(1u); w.Write(32ul); w.Write(8u); w.Write(32ul);
        while (ms.Length % 32 != 0) w.Write((byte)0);
        long dataStart = ms.Length;
        for (int i = 0; i < 8; i++) w.Write(i * 1.5f);
        w.Write(BitConverter.HalfToUInt16Bits((Half)0.25f)); for (int i = 0; i < 32; i++) w.Write((sbyte)(i - 16));
        w.Write(new byte[30]); // trailing padding
        string path = _dir.File("hand.gguf");
        File.WriteAllBytes(path, ms.ToArray());

        using var f = GgufFile.Open(path);
        Assert.Equal("qwen3", f.Architecture);
        Assert.Equal(28, f.Get<int>("qwen3.block_count"));
        Assert.Equal(new[] { "a", "bc" }, f.Get<string[]>("tokenizer.ggml.tokens"));
        Assert.Equal(dataStart, f.DataOffset);
        Assert.Equal(new ulong[] { 4, 2 }, f.Tensors[0].Dimensions);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => i * 1.5f), f.ReadAsFloat32(f.Tensors[0]));
        Assert.Equal(GgmlType.Q8_0, f.Tensors[1].Type);
        Assert.Equal(Enumerable.Range(0, 32).Select(i => (i - 16) * 0.25f), f.ReadAsFloat32(f.Tensors[1]));

        // And GgufWriter produces exactly these bytes for the same content.
        string again = _dir.File("again.gguf");
        using (var gw = new GgufWriter(again))
        {
            gw.SetMetadata("general.architecture", "qwen3");
            gw.SetMetadata("qwen3.block_count", 28u);
            gw.SetMetadata("tokenizer.ggml.tokens", new[] { "a", "bc" });
            gw.AddTensor("token_embd.weight", GgmlType.F32, [4, 2]);
            gw.AddTensor("output_norm.weight", GgmlType.Q8_0, [32]);
            gw.WriteTensorData(f.TensorData(f.Tensors[0]));
            gw.WriteTensorData(f.TensorData(f.Tensors[1]));
            gw.Finish();
        }
        Assert.Equal(ms.ToArray(), File.ReadAllBytes(again));
    }

    [Fact]
    public void Version2IsReadAndVersion1AndBadMagicAreExplained()
    {
        string path = _dir.File("v.gguf");
        using (var w = new GgufWriter(path)) { w.SetMetadata("k", 1u); w.Finish(); }
        var bytes = File.ReadAllBytes(path);

        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 2);
        File.WriteAllBytes(path, bytes);
        using (var f = GgufFile.Open(path)) Assert.Equal(2u, f.Version);

        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 1);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<GgufFormatException>(() => GgufFile.Open(path));
        Assert.Contains("version 1", e.Message);
        Assert.Contains(path, e.Message);
        Assert.Equal(4, e.Offset);

        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), 3);
        File.WriteAllBytes(path, bytes);
        Assert.Contains("big-endian", Assert.Throws<GgufFormatException>(() => GgufFile.Open(path)).Message);

        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 4);
        File.WriteAllBytes(path, bytes);
        Assert.Contains("unsupported GGUF version 4", Assert.Throws<GgufFormatException>(() => GgufFile.Open(path)).Message);

        "GGML"u8.CopyTo(bytes);
        File.WriteAllBytes(path, bytes);
        var m = Assert.Throws<GgufFormatException>(() => GgufFile.Open(path));
        Assert.Contains("not a GGUF file", m.Message);
        Assert.Contains("GGML", m.Message);

        File.WriteAllBytes(path, []);
        Assert.Contains("truncated", Assert.Throws<GgufFormatException>(() => GgufFile.Open(path)).Message);
        File.WriteAllBytes(path, "{\"not\": \"gguf\"}"u8.ToArray());
        Assert.Contains("not a GGUF file", Assert.Throws<GgufFormatException>(() => GgufFile.Open(path)).Message);
    }

    [Fact]
    public void DisposeWithoutFinishLeavesNoFile()
    {
        string path = _dir.File("partial.gguf");
        using (var w = new GgufWriter(path))
        {
            w.SetMetadata("general.architecture", "x");
            w.AddTensor("a", GgmlType.F32, [4]);
            w.WriteTensorData(new byte[8]);
        }
        Assert.Empty(_dir.Entries());

        // An existing file at the target is untouched by an abandoned write and replaced by a finished one.
        File.WriteAllText(path, "old");
        using (var w = new GgufWriter(path)) { w.AddTensor("a", GgmlType.F32, [4]); }
        Assert.Equal("old", File.ReadAllText(path));
        using (var w = new GgufWriter(path)) { w.AddTensor("a", GgmlType.F32, [1]); w.WriteTensorData(new byte[4]); w.Finish(); }
        using (var f = GgufFile.Open(path)) Assert.Single(f.Tensors);
        Assert.Equal(new[] { "partial.gguf" }, _dir.Entries());
    }

    [Fact]
    public void WriterEnforcesSizesOrderAndDeclarations()
    {
        string path = _dir.File("rules.gguf");
        using var w = new GgufWriter(path);
        w.AddTensor("a", GgmlType.F32, [2]);
        Assert.Throws<ArgumentException>(() => w.AddTensor("a", GgmlType.F16, [2]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("q", GgmlType.Q8_0, [33]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("z", GgmlType.F32, [4, 0]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("five", GgmlType.F32, [1, 1, 1, 1, 1]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("huge", GgmlType.F32, [1ul << 40, 1ul << 40]));
        Assert.Throws<ArgumentException>(() => w.AddTensor(new string('n', 64), GgmlType.F32, [1]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("bad", (GgmlType)4, [1]));
        Assert.Throws<ArgumentException>(() => w.SetMetadata("d", DateTime.Now));
        Assert.Throws<ArgumentException>(() => w.SetMetadata("l", new List<int> { 1 }));
        Assert.Throws<ArgumentException>(() => w.SetMetadata("mixed", new object[] { 1, 2u }));
        Assert.Throws<ArgumentException>(() => w.SetMetadata("nulls", new string[] { "a", null! }));
        Assert.Throws<ArgumentException>(() => w.SetMetadata("surrogate", "\uD800"));
        Assert.Throws<ArgumentException>(() => w.SetMetadata("general.alignment", 64u));
        Assert.Throws<ArgumentException>(() => w.SetMetadata("", 1));
        w.SetMetadata("k", 1);
        w.SetMetadata("k", "replaced");
        w.AddTensor("b", GgmlType.F16, [3]);

        w.WriteTensorData(new byte[5]);
        Assert.Throws<InvalidOperationException>(() => w.WriteTensorData(new byte[4])); // a has 3 bytes left
        Assert.Throws<InvalidOperationException>(() => w.AddTensor("c", GgmlType.F32, [1]));
        Assert.Throws<InvalidOperationException>(() => w.SetMetadata("late", 1));
        Assert.Throws<InvalidOperationException>(() => w.Finish());
        w.WriteTensorData(new byte[3]);
        w.WriteTensorData(new byte[6]);
        Assert.Throws<InvalidOperationException>(() => w.WriteTensorData(new byte[1]));
        w.Finish();
        Assert.Throws<InvalidOperationException>(() => w.WriteTensorData(new byte[1]));

        using var f = GgufFile.Open(path);
        Assert.Equal("replaced", f.Get<string>("k"));
        Assert.Equal(32ul, f.Tensor("b").Offset);
    }

    [Fact]
    public void WindowedReadsCoverTheWholeTensor()
    {
        string path = _dir.File("win.gguf");
        var data = Enumerable.Range(0, 4096).Select(i => (byte)(i * 7)).ToArray();
        using (var w = new GgufWriter(path))
        {
            w.AddTensor("w", GgmlType.I8, [64, 64]);
            for (int i = 0; i < data.Length; i += 1000) w.WriteTensorData(data.AsSpan(i, Math.Min(1000, data.Length - i)));
            w.Finish();
        }
        using var f = GgufFile.Open(path);
        var t = f.Tensor("w");
        var got = new List<byte>();
        for (long o = 0; o < 4096; o += 512) got.AddRange(f.TensorData(t, o, 512).ToArray());
        Assert.Equal(data, got);
        Assert.Equal(0, f.TensorData(t, 4096, 0).Length);
    }
}
