using TiDAR.Engine.Reference;

namespace TiDAR.Bench;

/// <summary>
/// Inputs shared by the suites, made once per run: uniform values in [-1, 1) from a fixed seed, so
/// every run and every case multiplies the same numbers.
/// </summary>
public static class BenchData
{
    private static readonly Dictionary<(int Count, int Seed), float[]> Cache = new();
    private static readonly Dictionary<(int Count, int Seed), float[]> HalfCache = new();
    private static readonly Dictionary<(int Count, int Seed), float[]> Q8Cache = new();

    /// <summary><paramref name="count"/> values from seed <paramref name="seed"/> (cached; do not modify).</summary>
    public static float[] Values(int count, int seed)
    {
        if (Cache.TryGetValue((count, seed), out var v)) return v;
        var rng = new Random(seed);
        v = new float[count];
        for (int i = 0; i < v.Length; i++) v[i] = rng.NextSingle() * 2f - 1f;
        return Cache[(count, seed)] = v;
    }

    /// <summary>The same values rounded to fp16 and widened back to fp32: what an fp16 upload holds.</summary>
    public static float[] HalfRounded(int count, int seed)
    {
        if (HalfCache.TryGetValue((count, seed), out var v)) return v;
        return HalfCache[(count, seed)] = ReferenceOps.RoundToHalf(Values(count, seed));
    }

    /// <summary>The same values quantized to q8_0 and dequantized: what a q8_0 upload holds.</summary>
    public static float[] Q8Dequantized(int count, int seed)
    {
        if (Q8Cache.TryGetValue((count, seed), out var v)) return v;
        v = new float[count];
        TiDAR.Engine.Gguf.GgmlQuant.DequantizeQ8_0(TiDAR.Engine.Gguf.GgmlQuant.QuantizeQ8_0(Values(count, seed)), v);
        return Q8Cache[(count, seed)] = v;
    }
}
