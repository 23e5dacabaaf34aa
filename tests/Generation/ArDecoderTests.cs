using TiDAR.Engine.Generation;
using TiDAR.Engine.Model;
using TiDAR.Engine.Reference;
using TiDAR.Tests.Model;

namespace TiDAR.Tests.Generation;

/// <summary>AR generation on the GPU equals greedy decoding with the C# reference model, token by token.</summary>
[Collection("gpu")]
public sealed class ArDecoderTests(GpuFixture gpu)
{
    private static List<int> ReferenceGreedy(ReferenceModel reference, int[] prompt, int count)
    {
        var rows = prompt.Select((t, i) => ForwardRow.Causal(t, i)).ToArray();
        var logits = reference.Forward(rows, [rows.Length - 1]);
        var tokens = new List<int>();
        for (int i = 0; i < count; i++)
        {
            int next = (int)ReferenceOps.Argmax(logits, 1, logits.Length)[0].Index;
            tokens.Add(next);
            logits = reference.Forward([ForwardRow.Causal(next, prompt.Length + i)], [0]);
        }
        return tokens;
    }

    [Theory]
    [InlineData(Architecture.Llama)]
    [InlineData(Architecture.Qwen2)]
    [InlineData(Architecture.Qwen3)]
    public void GreedyGenerationEqualsReference(Architecture arch)
    {
        var config = TinyModels.Config(arch);
        var weights = TinyModels.Weights(config, seed: 21);
        // MaxRows 4 forces a chunked prefill of the 11-token prompt.
        using var model = new GpuModel(gpu.Device, config, weights, new GpuModelOptions { MaxRows = 4, MaxOutputRows = 4 });
        using var cache = model.CreateCache(48, halfPrecision: false);
        int[] prompt = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
        var result = new ArDecoder(model, cache).Generate(prompt, new GenerationOptions { MaxTokens = 20 });
        var expected = ReferenceGreedy(new ReferenceModel(config, weights, 48), prompt, 20);
        Assert.Equal(expected, result.Tokens);
        Assert.Equal(StopReason.MaxTokens, result.StopReason);
        Assert.Equal(20, result.Stats.Forwards);
        Assert.Equal(1.0, result.Stats.TokensPerForward);
    }

    [Fact]
    public void StopsAtEndOfSequenceAndAtTheContextLimit()
    {
        var config = TinyModels.Config(Architecture.Qwen3);
        var weights = TinyModels.Weights(config, seed: 3);
        using var model = new GpuModel(gpu.Device, config, weights, new GpuModelOptions { MaxRows = 8, MaxOutputRows = 8 });
        int[] prompt = [7, 7, 1];
        using (var cache = model.CreateCache(40, false))
        {
            var free = new ArDecoder(model, cache).Generate(prompt, new GenerationOptions { MaxTokens = 12 });
            int eos = free.Tokens[5];
            int firstEos = free.Tokens.ToList().IndexOf(eos);
            var stopped = new ArDecoder(model, cache).Generate(prompt, new GenerationOptions { MaxTokens = 12, StopTokens = new HashSet<int> { eos } });
            Assert.Equal(StopReason.EndOfSequence, stopped.StopReason);
            Assert.Equal(free.Tokens.Take(firstEos), stopped.Tokens);
        }
        using (var small = model.CreateCache(8, false))
        {
            var r = new ArDecoder(model, small).Generate(prompt, new GenerationOptions { MaxTokens = 100 });
            Assert.Equal(StopReason.ContextFull, r.StopReason);
            Assert.Equal(8 - prompt.Length + 1, r.Tokens.Count); // the last token needs no slot of its own
            var e = Assert.Throws<ArgumentException>(() => new ArDecoder(model, small).Generate(Enumerable.Repeat(1, 8).ToArray(), new GenerationOptions()));
            Assert.Contains("context", e.Message);
        }
    }

    [Fact]
    public void SeededSamplingIsReproducibleAndCallbackCanStop()
    {
        var config = TinyModels.Config(Architecture.Llama);
        var weights = TinyModels.Weights(config, seed: 8);
        using var model = new GpuModel(gpu.Device, config, weights, new GpuModelOptions { MaxRows = 8, MaxOutputRows = 8 });
        using var cache = model.CreateCache(40, true);
        var options = new GenerationOptions { MaxTokens = 15, Sampling = new SamplingOptions { Temperature = 1.5f, TopP = 0.95f, Seed = 99 } };
        var a = new ArDecoder(model, cache).Generate([3, 4], options);
        var b = new ArDecoder(model, cache).Generate([3, 4], options);
        Assert.Equal(a.Tokens, b.Tokens);
        var c = new ArDecoder(model, cache).Generate([3, 4], options with { Sampling = options.Sampling with { Seed = 100 } });
        Assert.NotEqual(a.Tokens, c.Tokens);
        int seen = 0;
        var stopped = new ArDecoder(model, cache).Generate([3, 4], options, _ => ++seen < 4);
        Assert.Equal(4, stopped.Tokens.Count);
        Assert.Equal(StopReason.StopString, stopped.StopReason);
    }
}
