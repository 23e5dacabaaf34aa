using TiDAR.Engine.Generation;
using TiDAR.Engine.Model;
using TiDAR.Tests.Model;

namespace TiDAR.Tests.Generation;

/// <summary>
/// Exact TiDAR decoding against its specification: token-identical to AR greedy, each fused row equal to
/// an independent reference computation, the cache equal to a fresh prefill, sampling distributed as AR.
/// Random models draft badly, so a tiny vocabulary is used where acceptance must actually happen.
/// </summary>
[Collection("gpu")]
public sealed class TidarDecoderTests(GpuFixture gpu)
{
    private static ModelConfig Config(Architecture arch, int vocab) => TinyModels.Config(arch, vocab, context: 160) with { MaskTokenId = vocab - 1 };

    private GpuModel Model(ModelConfig config, IWeightSource weights) =>
        new(gpu.Device, config, weights, new GpuModelOptions { MaxRows = 72, MaxOutputRows = 72 });

    public static IEnumerable<object[]> Blocks() => Enumerable.Range(1, 8).Select(k => new object[] { k });

    [Theory]
    [MemberData(nameof(Blocks))]
    public void ExactGreedyEqualsArGreedy(int k)
    {
        foreach (var (arch, vocab, seed) in new[] { (Architecture.Qwen3, 6, 1), (Architecture.Llama, 67, 2), (Architecture.Qwen2, 5, 3) })
        {
            var config = Config(arch, vocab);
            var weights = TinyModels.Weights(config, seed);
            using var model = Model(config, weights);
            foreach (var prompt in new[] { new[] { 1 }, new[] { 2, 0, 1, 3, 2 }, Enumerable.Range(0, 30).Select(i => i * 7 % (vocab - 1)).ToArray() })
            {
                var options = new GenerationOptions { MaxTokens = 40 };
                using var arCache = model.CreateCache(prompt.Length + 41);
                var ar = new ArDecoder(model, arCache).Generate(prompt, options);
                using var cache = model.CreateCache(prompt.Length + 41 + k * (k + 1));
                var td = new TidarDecoder(model, cache).Generate(prompt, options, new TidarOptions { Block = k });
                Assert.Equal(ar.Tokens, td.Tokens);
                Assert.Equal(ar.StopReason, td.StopReason);
                Assert.Equal(td.Stats.Forwards - 1, td.Stats.AcceptedPerPosition.Sum());
                Assert.InRange(td.Stats.TokensPerForward, 0.99, k);
            }
        }
    }

    [Fact]
    public void SmallVocabularyModelsAcceptSeveralDraftsPerStep()
    {
        var config = Config(Architecture.Qwen3, 4);
        using var model = Model(config, TinyModels.Weights(config, 7));
        using var cache = model.CreateCache(200);
        var r = new TidarDecoder(model, cache).Generate([0, 1], new GenerationOptions { MaxTokens = 100 }, new TidarOptions { Block = 4 });
        Assert.True(r.Stats.AcceptedPerPosition.Skip(1).Sum() > 0, "no step accepted a draft: the multi-token path went untested");
        Assert.True(r.Stats.TokensPerForward > 1.0);
    }

    [Fact]
    public void EndOfSequenceInsideAnAcceptedRunEndsThere()
    {
        var config = Config(Architecture.Qwen3, 4);
        using var model = Model(config, TinyModels.Weights(config, 7));
        using var cache = model.CreateCache(200);
        var free = new TidarDecoder(model, cache).Generate([0, 1], new GenerationOptions { MaxTokens = 60 }, new TidarOptions { Block = 4 });
        // Pick as EOS a token that appears for the first time late in the output, likely inside an accepted run.
        int eosIndex = Enumerable.Range(3, free.Tokens.Count - 3).First(i => !free.Tokens.Take(i).Contains(free.Tokens[i]) || i == free.Tokens.Count - 1);
        int eos = free.Tokens[eosIndex];
        int first = free.Tokens.ToList().IndexOf(eos);
        foreach (int k in new[] { 2, 4, 8 })
        {
            using var c = model.CreateCache(200);
            var r = new TidarDecoder(model, c).Generate([0, 1], new GenerationOptions { MaxTokens = 60, StopTokens = new HashSet<int> { eos } }, new TidarOptions { Block = k });
            Assert.Equal(StopReason.EndOfSequence, r.StopReason);
            Assert.Equal(free.Tokens.Take(first), r.Tokens);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(5)]
    public void NearlyFullContextStopsWhereArStops(int k)
    {
        var config = Config(Architecture.Llama, 6);
        using var model = Model(config, TinyModels.Weights(config, 9));
        int[] prompt = [1, 2, 3, 4, 0, 2, 1, 3];
        const int context = 20;
        using var arCache = model.CreateCache(context);
        var ar = new ArDecoder(model, arCache).Generate(prompt, new GenerationOptions { MaxTokens = 1000 });
        using var cache = model.CreateCache(context + k * (k + 1));
        var td = new TidarDecoder(model, cache).Generate(prompt, new GenerationOptions { MaxTokens = 1000 }, new TidarOptions { Block = k });
        Assert.Equal(StopReason.ContextFull, ar.StopReason);
        Assert.Equal(StopReason.ContextFull, td.StopReason);
        Assert.Equal(ar.Tokens, td.Tokens);
    }

    [Fact]
    public void FusedStepRowsEqualIndependentReferenceForwards()
    {
        const int k = 3;
        var config = Config(Architecture.Qwen2, 11);
        var weights = TinyModels.Weights(config, 12);
        using var model = Model(config, weights);
        using var cache = model.CreateCache(64, halfPrecision: false);
        int[] prefix = [4, 1, 7, 2, 9];
        int L = prefix.Length;
        model.Forward(cache, prefix.Select((t, i) => ForwardRow.Causal(t, i)).ToArray(), []);
        int[] drafts = [3, 8, 5];
        var rows = TidarStepLayout.Step(L, drafts, config.MaskTokenId!.Value);
        var fused = model.Forward(cache, rows, Enumerable.Range(0, rows.Length).ToArray()).Logits!;
        int V = config.VocabSize;

        // Verify row i: an AR forward of prefix + d_0..d_i, last row.
        for (int i = 0; i < k; i++)
        {
            var seq = prefix.Concat(drafts.Take(i + 1)).ToArray();
            var reference = new ReferenceModel(config, weights, 64);
            var expected = reference.Forward(seq.Select((t, p) => ForwardRow.Causal(t, p)).ToArray(), [seq.Length - 1]);
            Assert.True(Engine.Reference.ReferenceOps.NormalizedError(fused.AsSpan(i * V, V), expected) < 1e-4, $"verify row {i}");
        }
        // Block B_j: prefix + d_0..d_{j-1} causal, then k masks at positions L+j.. that see all of that and each other.
        for (int j = 1; j <= k; j++)
        {
            var seq = prefix.Concat(drafts.Take(j)).ToArray();
            var causal = seq.Select((t, p) => ForwardRow.Causal(t, p));
            var masks = Enumerable.Range(0, k).Select(c => new ForwardRow(config.MaskTokenId!.Value, L + j + c, L + j + c, L + j + k, 0, 0));
            var all = causal.Concat(masks).ToArray();
            var reference = new ReferenceModel(config, weights, 64);
            var expected = reference.Forward(all, Enumerable.Range(seq.Length, k).ToArray());
            var got = fused.AsSpan(TidarStepLayout.BlockRow(k, j, 0) * V, k * V);
            Assert.True(Engine.Reference.ReferenceOps.NormalizedError(got, expected) < 1e-4, $"block {j}");
        }
    }

    [Theory]
    [InlineData(3, false)]
    [InlineData(6, true)]
    public void CacheAfterStepsEqualsAFreshPrefill(int k, bool f16)
    {
        var config = Config(Architecture.Qwen3, 5);
        var weights = TinyModels.Weights(config, 4);
        using var model = Model(config, weights);
        using var cache = model.CreateCache(128, f16);
        int[] prompt = [1, 3, 0, 2];
        var r = new TidarDecoder(model, cache).Generate(prompt, new GenerationOptions { MaxTokens = 33 }, new TidarOptions { Block = k });
        var committed = prompt.Concat(r.Tokens.Take(r.Tokens.Count - 1)).ToArray();
        using var fresh = model.CreateCache(128, f16);
        model.Forward(fresh, committed.Select((t, i) => ForwardRow.Causal(t, i)).ToArray(), []);
        int n = committed.Length * config.KvDim;
        for (int l = 0; l < config.Layers; l++)
        {
            if (f16)
            {
                Assert.Equal(gpu.Device.Read<ushort>(fresh.Keys[l], n), gpu.Device.Read<ushort>(cache.Keys[l], n));
                Assert.Equal(gpu.Device.Read<ushort>(fresh.Values[l], n), gpu.Device.Read<ushort>(cache.Values[l], n));
            }
            else
            {
                Assert.Equal(gpu.Device.Read<float>(fresh.Keys[l], n), gpu.Device.Read<float>(cache.Keys[l], n));
                Assert.Equal(gpu.Device.Read<float>(fresh.Values[l], n), gpu.Device.Read<float>(cache.Values[l], n));
            }
        }
    }

    [Fact]
    public void ExactSamplingIsDistributedAsArSampling()
    {
        // Exact distribution of the 2nd and 3rd generated tokens from the reference model, against the
        // frequencies of 2500 seeded TiDAR runs (k = 3): chi-square with V-1 = 4 degrees of freedom,
        // 18.5 being the 0.999 quantile.
        const int V = 5, runs = 2500;
        var config = Config(Architecture.Llama, V);
        var weights = TinyModels.Weights(config, 31);
        var sampling = new SamplingOptions { Temperature = 1.3f };
        int[] prompt = [0, 2];
        var p1 = Dist(config, weights, prompt, sampling);
        var p2 = new double[V];
        var p3 = new double[V];
        for (int a = 0; a < V; a++)
        {
            var d2 = Dist(config, weights, [.. prompt, a], sampling);
            for (int b = 0; b < V; b++)
            {
                p2[b] += p1[a] * d2[b];
                var d3 = Dist(config, weights, [.. prompt, a, b], sampling);
                for (int c = 0; c < V; c++) p3[c] += p1[a] * d2[b] * d3[c];
            }
        }
        using var model = Model(config, weights);
        using var cache = model.CreateCache(40);
        var counts2 = new int[V];
        var counts3 = new int[V];
        var decoder = new TidarDecoder(model, cache);
        for (int s = 0; s < runs; s++)
        {
            var r = decoder.Generate(prompt, new GenerationOptions { MaxTokens = 3, Sampling = sampling with { Seed = s } }, new TidarOptions { Block = 3 });
            counts2[r.Tokens[1]]++;
            counts3[r.Tokens[2]]++;
        }
        Assert.True(ChiSquare(counts2, p2, runs) < 18.5, $"2nd token chi-square {ChiSquare(counts2, p2, runs):F1}");
        Assert.True(ChiSquare(counts3, p3, runs) < 18.5, $"3rd token chi-square {ChiSquare(counts3, p3, runs):F1}");
    }

    private static double[] Dist(ModelConfig config, IWeightSource weights, int[] seq, SamplingOptions sampling)
    {
        var logits = new ReferenceModel(config, weights, 16).Forward(seq.Select((t, i) => ForwardRow.Causal(t, i)).ToArray(), [seq.Length - 1]);
        return Sampler.Distribution(logits, sampling);
    }

    private static double ChiSquare(int[] counts, double[] p, int n) =>
        counts.Select((c, i) => Math.Pow(c - n * p[i], 2) / (n * p[i])).Sum();

    [Fact]
    public void BadOptionsGetClearErrors()
    {
        var config = Config(Architecture.Llama, 6);
        var weights = TinyModels.Weights(config, 1);
        using var model = Model(config, weights);
        using var cache = model.CreateCache(30);
        var d = new TidarDecoder(model, cache);
        var g = new GenerationOptions { MaxTokens = 4 };
        Assert.Contains(">= 1", Assert.Throws<ArgumentException>(() => d.Generate([1], g, new TidarOptions { Block = 0 })).Message);
        Assert.Contains("context", Assert.Throws<ArgumentException>(() => d.Generate([1], g, new TidarOptions { Block = 5 })).Message);
        Assert.Contains("rows per forward", Assert.Throws<ArgumentException>(() => d.Generate([1], g, new TidarOptions { Block = 9 })).Message);
        Assert.Contains("beta", Assert.Throws<ArgumentException>(() => d.Generate([1], g, new TidarOptions { Verify = VerifyMode.Paper, Beta = 1.5f })).Message);
        Assert.Contains("greedy", Assert.Throws<ArgumentException>(() => d.Generate([1], g with { Sampling = new() { Temperature = 1 } }, new TidarOptions { Verify = VerifyMode.Paper, Beta = 0.5f })).Message);
        using var plain = new GpuModel(gpu.Device, config with { MaskTokenId = null }, weights, new GpuModelOptions { MaxRows = 8, MaxOutputRows = 8 });
        using var plainCache = plain.CreateCache(30);
        Assert.Contains("mask token", Assert.Throws<InvalidOperationException>(() => new TidarDecoder(plain, plainCache)).Message);
    }

    [Fact]
    public void PaperModeAtBetaOneIsExactAndAtBetaZeroTrustsTheDrafts()
    {
        var config = Config(Architecture.Qwen3, 6);
        var weights = TinyModels.Weights(config, 1);
        using var model = Model(config, weights);
        using var cache = model.CreateCache(100);
        var d = new TidarDecoder(model, cache);
        var g = new GenerationOptions { MaxTokens = 30 };
        var exact = d.Generate([1, 2], g, new TidarOptions { Block = 4 });
        var betaOne = d.Generate([1, 2], g, new TidarOptions { Block = 4, Verify = VerifyMode.Paper, Beta = 1f });
        Assert.Equal(exact.Tokens, betaOne.Tokens);
        var trustDiff = d.Generate([1, 2], g, new TidarOptions { Block = 4, Verify = VerifyMode.Paper, Beta = 0f });
        Assert.Equal(trustDiff.Stats.Forwards - 1, trustDiff.Stats.AcceptedPerPosition[^1]); // every step accepts all k
    }
}
