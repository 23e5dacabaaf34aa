using TiDAR.Engine.Generation;
using TiDAR.Engine.Model;

namespace TiDAR.Cli.Bench;

/// <summary>One decoding mode over all prompts: AR, TiDAR at a fixed k, or TiDAR --block auto.</summary>
internal sealed record DecodeRow(string Mode, int K, int Prompts, int Tokens, int Forwards, double DecodeMs, long Steps, long Committed,
    long DraftsCompared, long DraftsAccepted, double RowsPerForward, bool IdenticalToAr, string Plan)
{
    /// <summary>Decode tokens per second over all prompts: tokens after each prompt's first (which prefill makes) over decode time.</summary>
    public double TokensPerSecond => DecodeMs <= 0 ? 0 : (Tokens - Prompts) / (DecodeMs / 1000.0);
    /// <summary>Generated tokens per forward, prefill's last forward included (1 for AR).</summary>
    public double TokensPerForward => Forwards == 0 ? 0 : Tokens / (double)Forwards;
    /// <summary>Of the drafts compared with the AR token (d_1.. of each step, up to the first mismatch), the fraction accepted.</summary>
    public double Acceptance => DraftsCompared == 0 ? double.NaN : DraftsAccepted / (double)DraftsCompared;
}

/// <summary>
/// AR against TiDAR exact greedy decoding on the same prompts (DESIGN.md section 1): each mode
/// generates <c>tokens</c> tokens after each prompt in a fresh KV cache; TiDAR's output is checked
/// token for token against AR's (exact greedy verification is lossless).
/// </summary>
internal static class DecodeComparison
{
    public static List<DecodeRow> Run(GpuModel model, IReadOnlyList<int[]> prompts, int tokens, IReadOnlyList<int> blocks, LatencyProfile? autoProfile,
        bool halfCache, Action<string>? progress)
    {
        var options = new GenerationOptions { MaxTokens = tokens };
        int promptMax = prompts.Max(p => p.Length);
        int maxRows = Math.Min(model.Options.MaxRows, model.Options.MaxOutputRows);

        // One short unmeasured generation first: the first run of a process pays one-time costs (JIT, pipelines, caches).
        using (var warm = model.CreateCache(promptMax + tokens + 1, halfCache))
            new ArDecoder(model, warm).Generate(prompts[0], options with { MaxTokens = Math.Min(tokens, 4) });

        var modes = new List<(string Name, TidarOptions? Tidar)> { ("ar", null) };
        if (model.Config.MaskTokenId is null) progress?.Invoke("The model has no mask token: TiDAR runs skipped.");
        else
        {
            foreach (var k in blocks.Where(k => k * (k + 1) > maxRows))
                progress?.Invoke($"k={k} skipped: a step needs {k * (k + 1)} rows, the model was opened for {maxRows}.");
            // One auto policy for all prompts, as a long-running session (chat, server) keeps one per loaded model:
            // what it learns about acceptance and step times carries from one generation to the next. It runs
            // right after AR, so the comparison that decides whether auto earns its keep sees the same machine.
            if (autoProfile is not null)
                modes.Add(("auto", new TidarOptions { Block = 1, AutoProfile = autoProfile, Policy = new AutoBlockPolicy(autoProfile, maxRows) }));
            modes.AddRange(blocks.Where(k => k * (k + 1) <= maxRows).Select(k => ($"k={k}", (TidarOptions?)new TidarOptions { Block = k })));
        }

        // Prompt by prompt, every mode in turn: load that comes and goes on the machine (a CPU driver
        // feels every other process) then lands on all modes alike, not on whichever ran during it.
        var accumulators = modes.Select(m => new Accumulator(m.Name, m.Tidar is null ? 1 : m.Tidar.AutoProfile is null ? m.Tidar.Block : 0)).ToArray();
        var identical = modes.Select(_ => true).ToArray();
        var plans = modes.Select(_ => "").ToArray();
        foreach (var prompt in prompts)
        {
            IReadOnlyList<int>? reference = null;
            for (int m = 0; m < modes.Count; m++)
            {
                var tidar = modes[m].Tidar;
                int scratch = tidar?.ScratchSlots(maxRows) ?? 0;
                using var cache = model.CreateCache(promptMax + tokens + scratch + 1, halfCache);
                var r = tidar is null ? new ArDecoder(model, cache).Generate(prompt, options) : new TidarDecoder(model, cache).Generate(prompt, options, tidar);
                reference ??= r.Tokens;   // AR runs first: its tokens are what exact TiDAR must reproduce
                identical[m] &= r.Tokens.SequenceEqual(reference);
                plans[m] = tidar is null ? "ar" : r.Stats.Plan;
                accumulators[m].Add(r, tidar is null ? null : tidar.AutoProfile is null ? tidar.Block : null);
            }
        }
        // Reported as AR, the fixed blocks, then auto.
        var rows = new List<DecodeRow>();
        foreach (int m in Enumerable.Range(0, modes.Count).OrderBy(m => modes[m].Name == "ar" ? 0 : modes[m].Name == "auto" ? 2 : 1))
        {
            rows.Add(accumulators[m].Row(identical[m], plans[m]));
            progress?.Invoke(Describe(rows[^1]));
        }
        return rows;
    }

    public static string Describe(DecodeRow r) =>
        $"{r.Mode}: {r.TokensPerSecond:F2} tokens/s, {r.TokensPerForward:F2} tokens/forward, {r.RowsPerForward:F1} rows/step" +
        (double.IsNaN(r.Acceptance) ? "" : $", draft acceptance {r.Acceptance:P0}") + (r.Mode == "ar" ? "" : $", identical to AR: {(r.IdenticalToAr ? "yes" : "NO")}") +
        (r.Plan.Length > 0 && r.Mode == "auto" ? $" [{r.Plan}]" : "");

    private sealed class Accumulator(string mode, int k)
    {
        private int _prompts, _tokens, _forwards;
        private double _ms, _rowsWeighted;
        private long _steps, _committed, _compared, _accepted;

        public void Add(GenerationResult r, int? fixedK)
        {
            var s = r.Stats;
            _prompts++;
            _tokens += s.GeneratedTokens;
            _forwards += s.Forwards;
            _ms += s.DecodeMs;
            // The per-step histogram: a steps committed a tokens (d_0 and a-1 drafts).
            var h = s.AcceptedPerPosition;
            long steps = 0;
            for (int a = 1; a <= h.Count; a++)
            {
                long n = h[a - 1];
                steps += n;
                _committed += a * n;
                _accepted += (a - 1) * n;
                // Drafts compared: up to and including the first mismatch; all k-1 when every one matched.
                // Known only for a fixed k (auto's steps vary in size and may be plain AR; its plan reports alpha).
                if (fixedK is int kk) _compared += a == kk ? (a - 1) * n : a * n;
            }
            _steps += steps;
            _rowsWeighted += s.RowsPerForward * steps;
        }

        public DecodeRow Row(bool identical, string plan) => new(mode, k, _prompts, _tokens, _forwards, _ms, _steps, _committed, _compared, _accepted,
            _steps == 0 ? 1 : _rowsWeighted / _steps, identical, plan);
    }
}
