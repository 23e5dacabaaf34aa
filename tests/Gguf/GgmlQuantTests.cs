using System.Buffers.Binary;
using TiDAR.Engine.Gguf;

namespace TiDAR.Tests.Gguf;

public sealed class GgmlQuantTests
{
    private static float[] Random(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(rng.NextDouble() * 2 - 1) * scale * (i % 7 == 0 ? 3f : 1f);
        return x;
    }

    [Fact]
    public void TypeTableMatchesGgml()
    {
        Assert.Equal(34, GgmlType.Q8_0.BlockBytes());
        Assert.Equal(32, GgmlType.Q8_0.BlockSize());
        Assert.Equal(18, GgmlType.Q4_0.BlockBytes());
        Assert.Equal(20, GgmlType.Q4_1.BlockBytes());
        Assert.Equal(210, GgmlType.Q6_K.BlockBytes());
        Assert.Equal(256, GgmlType.Q4_K.BlockSize());
        Assert.Equal(144, GgmlType.Q4_K.BlockBytes());
        Assert.Equal(1, GgmlType.BF16.BlockSize());
        Assert.Equal(2, GgmlType.BF16.BlockBytes());
        Assert.Equal(4u * 10, GgmlType.F32.RowBytes(10));
        Assert.Equal(34u * 3, GgmlType.Q8_0.RowBytes(96));
        Assert.Throws<GgufFormatException>(() => GgmlType.Q8_0.RowBytes(33));
        Assert.Throws<GgufFormatException>(() => GgmlType.F64.RowBytes(ulong.MaxValue / 4));
        Assert.True(GgmlTypeInfo.IsKnown(30));
        Assert.False(GgmlTypeInfo.IsKnown(4));
        Assert.False(GgmlTypeInfo.IsKnown(31));
        Assert.False(GgmlTypeInfo.IsKnown(1000));
        foreach (var t in Enum.GetValues<GgmlType>()) Assert.True(GgmlTypeInfo.IsKnown((uint)t), t.ToString());
    }

    [Fact]
    public void Q8_0KnownAnswerBlock()
    {
        // x_j = j - 16: amax 16, d = 16/127 = 0.12598 -> fp16 0x3008 (0.1259765625), 1/d = 7.9375,
        // q = round((j - 16) * 7.9375) half away from zero: -8 * 7.9375 = -63.5 -> -64, 8 -> 64.
        var x = Enumerable.Range(0, 32).Select(j => (float)(j - 16)).ToArray();
        sbyte[] q = [-127, -119, -111, -103, -95, -87, -79, -71, -64, -56, -48, -40, -32, -24, -16, -8,
                     0, 8, 16, 24, 32, 40, 48, 56, 64, 71, 79, 87, 95, 103, 111, 119];
        var expected = new byte[34];
        expected[0] = 0x08;
        expected[1] = 0x30;
        for (int j = 0; j < 32; j++) expected[2 + j] = (byte)q[j];
        Assert.Equal(expected, GgmlQuant.QuantizeQ8_0(x));

        var back = new float[32];
        GgmlQuant.DequantizeQ8_0(expected, back);
        for (int j = 0; j < 32; j++) Assert.Equal(q[j] * 0.1259765625f, back[j]);
    }

    [Fact]
    public void Q8_0AllZeroBlockHasZeroScale()
    {
        var b = GgmlQuant.QuantizeQ8_0(new float[32]);
        Assert.All(b, v => Assert.Equal(0, v));
    }

    [Fact]
    public void Q4_0KnownAnswerBlocks()
    {
        // First element -8 has the largest magnitude: d = -8 / -8 = 1, nibble = trunc(x + 8.5) = x + 8.
        var x = new float[32];
        for (int j = 0; j < 16; j++) { x[j] = j - 8; x[j + 16] = 7 - j; }
        var expected = new byte[18];
        expected[0] = 0x00; expected[1] = 0x3C; // fp16 1.0
        for (int j = 0; j < 16; j++) expected[2 + j] = (byte)(j | ((15 - j) << 4));
        Assert.Equal(expected, GgmlQuant.QuantizeQ4_0(x));
        var back = new float[32];
        GgmlQuant.DequantizeQ4_0(expected, back);
        Assert.Equal(x, back);

        // Largest magnitude positive: x_0 = 8 -> d = -1; 8 -> nibble trunc(-8 + 8.5) = 0, -7 -> 15 (clamped from 15.5).
        var y = new float[32];
        y[0] = 8; y[1] = -7; y[16] = 3;
        var b = GgmlQuant.QuantizeQ4_0(y);
        Assert.Equal(0x00, b[0]); Assert.Equal(0xBC, b[1]); // fp16 -1.0
        Assert.Equal(0x00 | (5 << 4), b[2]);                   // 8 -> 0, 3 -> trunc(-3 + 8.5) = 5
        Assert.Equal(15 | (8 << 4), b[3]);                     // -7 -> 15, 0 -> 8
        GgmlQuant.DequantizeQ4_0(b, back);
        Assert.Equal(8f, back[0]); Assert.Equal(-7f, back[1]); Assert.Equal(3f, back[16]); Assert.Equal(0f, back[2]);
    }

    [Fact]
    public void Q4_1KnownAnswerBlock()
    {
        // x = 0..31: m = 0, d = 31/15 -> fp16 0x4022 (2.06640625); nibbles are trunc(j * 15/31 + 0.5).
        var x = Enumerable.Range(0, 32).Select(j => (float)j).ToArray();
        var b = GgmlQuant.QuantizeQ4_1(x);
        Assert.Equal(20, b.Length);
        Assert.Equal(0x4022, BinaryPrimitives.ReadUInt16LittleEndian(b));
        Assert.Equal(0x0000, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(2)));
        for (int j = 0; j < 16; j++)
        {
            int lo = Math.Min(15, (int)(j * (15f / 31f) + 0.5f)), hi = Math.Min(15, (int)((j + 16) * (15f / 31f) + 0.5f));
            Assert.Equal((byte)(lo | hi << 4), b[4 + j]);
        }
        Assert.Equal(15, b[4 + 15] >> 4); // x = 31 is the top code
        var back = new float[32];
        GgmlQuant.DequantizeQ4_1(b, back);
        Assert.Equal(0f, back[0]);
        Assert.Equal(15 * 2.06640625f, back[31]);
    }

    [Fact]
    public void Q5KnownAnswerBlocks()
    {
        // Q5_0: d = 0.5, element j = low nibble of qs[j] | qh bit j << 4, minus 16.
        var b = new byte[22];
        BinaryPrimitives.WriteUInt16LittleEndian(b, BitConverter.HalfToUInt16Bits((Half)0.5f));
        uint qh = (1u << 3) | (1u << 20);            // fifth bit of element 3 and element 20
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(2), qh);
        b[6 + 3] = 0x27;                              // element 3 low nibble 7, element 19 high nibble 2
        b[6 + 4] = 0x90;                              // element 4: 0, element 20: 9 (+16 from qh)
        var y = new float[32];
        GgmlQuant.DequantizeQ5_0(b, y);
        Assert.Equal((7 + 16 - 16) * 0.5f, y[3]);
        Assert.Equal((2 - 16) * 0.5f, y[19]);
        Assert.Equal((0 - 16) * 0.5f, y[4]);
        Assert.Equal((9 + 16 - 16) * 0.5f, y[20]);

        // Q5_1: d = 2, m = -1.
        var c = new byte[24];
        BinaryPrimitives.WriteUInt16LittleEndian(c, BitConverter.HalfToUInt16Bits((Half)2f));
        BinaryPrimitives.WriteUInt16LittleEndian(c.AsSpan(2), BitConverter.HalfToUInt16Bits((Half)(-1f)));
        BinaryPrimitives.WriteUInt32LittleEndian(c.AsSpan(4), 1u << 31); // element 31
        c[8 + 15] = 0xF1;
        GgmlQuant.DequantizeQ5_1(c, y);
        Assert.Equal(1 * 2f - 1f, y[15]);
        Assert.Equal(31 * 2f - 1f, y[31]);
        Assert.Equal(-1f, y[0]);
    }

    [Fact]
    public void QuantizeRoundTripsWithinErrorBounds()
    {
        foreach (var scale in new[] { 1e-3f, 1f, 250f })
        {
            var x = Random(32 * 64, 7, scale);
            var y = new float[x.Length];
            GgmlQuant.DequantizeQ8_0(GgmlQuant.QuantizeQ8_0(x), y);
            // Rounding error of the code, plus the code times the fp16 rounding of the stored scale (and min).
            CheckBlocks(x, y, amax => 0.5f * (amax / 127) + 127 * Fp16Err(amax / 127));
            GgmlQuant.DequantizeQ4_0(GgmlQuant.QuantizeQ4_0(x), y);
            CheckBlocks(x, y, amax => amax / 8 + 8 * Fp16Err(amax / 8)); // the far end of the range clamps: a full step
            GgmlQuant.DequantizeQ4_1(GgmlQuant.QuantizeQ4_1(x), y);
            CheckBlocks(x, y, amax => 0.5f * (2 * amax / 15) + 15 * Fp16Err(2 * amax / 15) + Fp16Err(amax));
        }
    }

    /// <summary>Largest error of rounding a non-negative v to fp16: half an ulp (2^-11 relative), at least half the subnormal step.</summary>
    private static float Fp16Err(float v) => (v * (1f / 2048) + 3e-8f) * 1.01f;

    private static void CheckBlocks(float[] x, float[] y, Func<float, float> bound)
    {
        for (int b = 0; b < x.Length / 32; b++)
        {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = MathF.Max(amax, MathF.Abs(x[b * 32 + j]));
            for (int j = 0; j < 32; j++)
                Assert.True(MathF.Abs(x[b * 32 + j] - y[b * 32 + j]) <= bound(amax),
                    $"block {b} element {j}: {x[b * 32 + j]} came back as {y[b * 32 + j]} (bound {bound(amax)})");
        }
    }

    [Fact]
    public void QuantizeRejectsPartialBlocksAndMismatchedOutputs()
    {
        Assert.Throws<ArgumentException>(() => GgmlQuant.QuantizeQ8_0(new float[33]));
        Assert.Throws<ArgumentException>(() => GgmlQuant.DequantizeQ8_0(new byte[35], new float[32]));
        Assert.Throws<ArgumentException>(() => GgmlQuant.DequantizeQ4_0(new byte[18], new float[64]));
        Assert.Throws<ArgumentException>(() => GgmlQuant.FromF16(new byte[3], new float[1]));
        Assert.Throws<NotSupportedException>(() => GgmlQuant.Dequantize(GgmlType.Q6_K, new byte[210], new float[256]));
    }

    [Fact]
    public void F16MatchesHalfConversion()
    {
        var x = Random(4099, 3, 70000f).Concat(new[] { 0f, -0f, 65504f, 65520f, 1e-8f, 6e-5f, float.PositiveInfinity, float.NaN, 1.00048828125f, 1.00146484375f }).ToArray();
        var b = GgmlQuant.ToF16(x);
        var back = new float[x.Length];
        GgmlQuant.FromF16(b, back);
        for (int i = 0; i < x.Length; i++)
        {
            ushort bits = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(2 * i));
            Assert.Equal(BitConverter.HalfToUInt16Bits((Half)x[i]), bits);
            Assert.Equal((float)(Half)x[i], back[i]);
        }
        // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to even -> 1.0 (0x3C00); 1 + 3*2^-11 -> 1 + 2^-9 (0x3C02).
        Assert.Equal(0x3C00, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(2 * (x.Length - 2))));
        Assert.Equal(0x3C02, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(2 * (x.Length - 1))));
    }

    [Fact]
    public void BF16RoundsToNearestEvenAndKeepsNaN()
    {
        uint[] inputs = [0x3F808000, 0x3F818000, 0x3F808001, 0x3F80FFFF, 0x7F800000, 0xFF800000, 0x7F800001, 0xFFC00001, 0x7F7FFFFF, 0x00000001, 0x80000000, 0x40490FDB];
        ushort[] expected = [0x3F80, 0x3F82, 0x3F81, 0x3F81, 0x7F80, 0xFF80, 0x7FC0, 0xFFC0, 0x7F80, 0x0000, 0x8000, 0x4049];
        var x = inputs.Select(BitConverter.UInt32BitsToSingle).ToArray();
        var b = GgmlQuant.ToBF16(x);
        for (int i = 0; i < x.Length; i++)
            Assert.True(expected[i] == BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(2 * i)), $"input 0x{inputs[i]:X8}");
        var back = new float[x.Length];
        GgmlQuant.FromBF16(b, back);
        Assert.Equal(1f, back[0]);
        Assert.True(float.IsNaN(back[6]));
        Assert.True(float.IsNaN(back[7]));
        Assert.Equal(float.PositiveInfinity, back[4]);
        Assert.Equal(BitConverter.UInt32BitsToSingle(0x40490000), back[11]);

        var r = Random(1000, 11, 1e4f);
        var rb = GgmlQuant.ToBF16(r);
        var rr = new float[r.Length];
        GgmlQuant.FromBF16(rb, rr);
        for (int i = 0; i < r.Length; i++) Assert.True(MathF.Abs(r[i] - rr[i]) <= MathF.Abs(r[i]) * (1f / 256f), $"{r[i]} -> {rr[i]}");
    }
}
