using TiDAR.Engine.Generation;
using TiDAR.Engine.Model;
using TiDAR.Tests.Model;

namespace TiDAR.Tests.Generation;

[Collection("gpu")]
public sealed class PerplexityTests(GpuFixture gpu)
{
    /// <summary>Sliding-window NLL computed with the reference model, one window at a time from scratch.</summary>
    private static double ReferenceMeanNll(ModelConfig config, IWeightSource weights, int[] tokens, int window, int stride)
    {
        double nll = 0; int scored = 0, done = 1;
        for (int start = 0; done < tokens.Length; start += stride)
        {
            int end = Math.Min(start + window, tokens.Length);
            var reference = new ReferenceModel(config, weights, window);
            var rows = Enumerable.Range(start, end - start).Select(i => ForwardRow.Causal(tokens[i], i - start)).ToArray();
            var logits = reference.Forward(rows, Enumerable.Range(0, rows.Length).ToArray());
            for (int t = Math.Max(done, start + 1); t < end; t++)
            {
                nll -= PerplexityEvaluator.LogSoftmaxAt(logits.AsSpan((t - 1 - start) * config.VocabSize, config.VocabSize), tokens[t]);
                scored++;
            }
            done = end;
            if (end == tokens.Length) break;
        }
        return nll / scored;
    }

    [Theory]
    [InlineData(64, 32)]  // one window
    [InlineData(12, 5)]   // several overlapping windows
    public void MatchesReferenceNll(int window, int stride)
    {
        var config = TinyModels.Config(Architecture.Llama);
        var weights = TinyModels.Weights(config, seed: 2);
        var tokens = Enumerable.Range(0, 30).Select(i => (i * 7 + 3) % config.VocabSize).ToArray();
        using var model = new GpuModel(gpu.Device, config, weights, new GpuModelOptions { MaxRows = 8, MaxOutputRows = 8 });
        using var cache = model.CreateCache(window, halfPrecision: false);
        var r = new PerplexityEvaluator(model, cache).Evaluate(tokens, stride);
        Assert.Equal(tokens.Length - 1, r.ScoredTokens);
        double expected = ReferenceMeanNll(config, weights, tokens, window, stride);
        Assert.Equal(expected, r.MeanNll, 4);
        Assert.Equal(Math.Exp(expected), r.Perplexity, 3);
    }
}
