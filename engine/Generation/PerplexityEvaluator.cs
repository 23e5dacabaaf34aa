using TiDAR.Engine.Model;

namespace TiDAR.Engine.Generation;

/// <summary>Result of a perplexity run: exp(mean negative log-likelihood) over the scored tokens.</summary>
public sealed record PerplexityResult(double Perplexity, double MeanNll, int ScoredTokens, int Windows);

/// <summary>
/// AR perplexity of a token sequence with a sliding window: windows of the cache's length advance by
/// a stride; the first window scores every token, later ones only the tokens past the overlap, so each
/// token is scored once with at least (window - stride) tokens of context.
/// </summary>
public sealed class PerplexityEvaluator(GpuModel model, KvCache cache)
{
    public PerplexityResult Evaluate(IReadOnlyList<int> tokens, int? stride = null, IProgress<(int Done, int Total)>? progress = null)
    {
        if (tokens.Count < 2) throw new ArgumentException($"Perplexity needs at least 2 tokens, the text has {tokens.Count}.");
        int window = cache.Capacity;
        int step = stride ?? Math.Max(1, window / 2);
        if (step < 1 || step > window) throw new ArgumentException($"Stride {step} must be within 1..{window}.");
        int chunk = Math.Min(model.Options.MaxRows, model.Options.MaxOutputRows);
        int vocab = model.Config.VocabSize;
        double nll = 0;
        int scored = 0, windows = 0;
        // Token i (i >= 1) is predicted by row i - 1. scoredUpTo: tokens < it are already scored.
        int scoredUpTo = 1;
        for (int start = 0; scoredUpTo < tokens.Count; start += step)
        {
            int end = Math.Min(start + window, tokens.Count);
            windows++;
            for (int c = start; c < end; c += chunk)
            {
                int n = Math.Min(chunk, end - c);
                var rows = new ForwardRow[n];
                for (int i = 0; i < n; i++) rows[i] = new ForwardRow(tokens[c + i], c + i - start, c + i - start, c + i - start + 1, 0, 0);
                var outputs = Enumerable.Range(0, n).ToArray();
                var logits = model.Forward(cache, rows, outputs).Logits!;
                for (int i = 0; i < n; i++)
                {
                    int target = c + i + 1;
                    if (target >= end || target < scoredUpTo) continue;
                    nll -= LogSoftmaxAt(logits.AsSpan(i * vocab, vocab), tokens[target]);
                    scored++;
                }
            }
            scoredUpTo = end;
            progress?.Report((scoredUpTo, tokens.Count));
            if (end == tokens.Count) break;
        }
        double mean = nll / scored;
        return new PerplexityResult(Math.Exp(mean), mean, scored, windows);
    }

    public static double LogSoftmaxAt(ReadOnlySpan<float> logits, int index)
    {
        double max = double.NegativeInfinity;
        foreach (var v in logits) max = Math.Max(max, v);
        double sum = 0;
        foreach (var v in logits) sum += Math.Exp(v - max);
        return logits[index] - max - Math.Log(sum);
    }
}
