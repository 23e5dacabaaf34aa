namespace TiDAR.Engine.Generation;

/// <summary>
/// Turns a logit row into a token: greedy argmax (lowest id on ties), or a draw from the
/// temperature-scaled distribution restricted by top-k and top-p, with a seeded generator so that a
/// seed reproduces a run.
/// </summary>
public sealed class Sampler
{
    private readonly SamplingOptions _options;
    private readonly Random _rng;

    public Sampler(SamplingOptions options)
    {
        options.Validate();
        _options = options;
        _rng = new Random(options.Seed);
    }

    public SamplingOptions Options => _options;

    public int Sample(ReadOnlySpan<float> logits) => _options.Greedy ? Argmax(logits) : Draw(Distribution(logits, _options));

    /// <summary>A uniform number in [0, 1) from this sampler's seeded generator.</summary>
    public double NextUniform() => _rng.NextDouble();

    /// <summary>Draws an index from probabilities that sum to 1.</summary>
    public int Draw(ReadOnlySpan<double> p)
    {
        double u = _rng.NextDouble(), acc = 0;
        int last = 0;
        for (int i = 0; i < p.Length; i++)
        {
            if (p[i] <= 0) continue;
            acc += p[i];
            last = i;
            if (u < acc) return i;
        }
        return last; // rounding left u just above the total
    }

    public static int Argmax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    /// <summary>The probabilities a draw uses: softmax(logits / T), cut to top-k and top-p, renormalised.</summary>
    public static double[] Distribution(ReadOnlySpan<float> logits, SamplingOptions o)
    {
        int n = logits.Length;
        var p = new double[n];
        double max = double.NegativeInfinity;
        for (int i = 0; i < n; i++) max = Math.Max(max, logits[i] / (double)o.Temperature);
        double sum = 0;
        for (int i = 0; i < n; i++) { p[i] = Math.Exp(logits[i] / (double)o.Temperature - max); sum += p[i]; }
        for (int i = 0; i < n; i++) p[i] /= sum;
        if ((o.TopK > 0 && o.TopK < n) || o.TopP < 1)
        {
            var order = Enumerable.Range(0, n).OrderByDescending(i => p[i]).ThenBy(i => i).ToArray();
            int keep = o.TopK > 0 ? Math.Min(o.TopK, n) : n;
            if (o.TopP < 1)
            {
                double acc = 0;
                for (int j = 0; j < keep; j++)
                {
                    acc += p[order[j]];
                    if (acc >= o.TopP) { keep = j + 1; break; }
                }
            }
            var kept = new double[n];
            double total = 0;
            for (int j = 0; j < keep; j++) { kept[order[j]] = p[order[j]]; total += p[order[j]]; }
            for (int i = 0; i < n; i++) kept[i] /= total;
            p = kept;
        }
        return p;
    }
}
