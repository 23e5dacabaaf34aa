using System.Diagnostics;
using TiDAR.Engine.Generation;
using TiDAR.Engine.Model;

namespace TiDAR.Cli.Bench;

/// <summary>One measured point of the free-slot profile.</summary>
internal sealed record ProfilePoint(int Context, int Rows, double MedianMs, double MinMs, double MaxMs, double RecordMs, double SubmitMs, int Dispatches)
{
    public double MsPerRow => MedianMs / Rows;
}

/// <summary>The free-slot profile at one context: forward latency against rows.</summary>
internal sealed record ContextProfile(int Context, IReadOnlyList<ProfilePoint> Points, string? StopNote)
{
    public double OneRowMs => Points[0].MedianMs;

    /// <summary>The most rows whose latency stays within (1 + tolerance) of one row's (the "free" rows).</summary>
    public int FreeRows(double tolerance) =>
        Points.Where(p => p.MedianMs <= OneRowMs * (1 + tolerance)).Select(p => p.Rows).DefaultIfEmpty(1).Max();

    /// <summary>
    /// The most rows within (1 + tolerance) of the smallest multi-row forward measured (usually 2 rows): where
    /// the one-row path has its own faster kernel (matvec), the flat region starts there instead.
    /// </summary>
    public int FreeRowsAfterTwo(double tolerance)
    {
        var baseline = Points.FirstOrDefault(p => p.Rows >= 2);
        if (baseline is null) return 1;
        return Points.Where(p => p.Rows >= baseline.Rows && p.MedianMs <= baseline.MedianMs * (1 + tolerance)).Select(p => p.Rows).Max();
    }

    public LatencyProfile ToLatencyProfile() => new(Points.Select(p => p.Rows).ToArray(), Points.Select(p => p.MedianMs).ToArray(), Context);
}

/// <summary>
/// Measures the free-slot profile (DESIGN.md section 1): wall time of one forward of n rows after
/// <c>context</c> cached positions, every row an output row with device argmax (the shape of a TiDAR
/// step), median of <c>repeats</c> runs after one warm-up. Rows are mask-like: each sees the context
/// and itself. Stops growing n once a forward takes longer than <c>maxForwardMs</c>.
/// </summary>
internal static class FreeSlotProfiler
{
    public static ContextProfile Measure(GpuModel model, int context, IReadOnlyList<int> rows, int repeats, double maxForwardMs, Action<ProfilePoint>? progress)
    {
        int max = rows.Max();
        using var cache = model.CreateCache(context + max);
        int token = model.Config.MaskTokenId ?? 0;
        var points = new List<ProfilePoint>();
        string? note = null;
        foreach (int n in rows)
        {
            var list = new ForwardRow[n];
            for (int i = 0; i < n; i++) list[i] = new ForwardRow(token, context + i, context + i, context, context + i, context + i + 1);
            var outputs = Enumerable.Range(0, n).ToArray();
            var sw = Stopwatch.StartNew();
            model.Forward(cache, list, outputs, logits: false, argmax: true);   // warm-up (pipelines, caches)
            double warm = sw.Elapsed.TotalMilliseconds;
            // A forward far over budget is measured once only.
            int reps = warm > 2 * maxForwardMs ? 1 : repeats;
            var times = new double[reps];
            double record = 0, submit = 0;
            for (int t = 0; t < reps; t++)
            {
                sw.Restart();
                model.Forward(cache, list, outputs, logits: false, argmax: true);
                times[t] = sw.Elapsed.TotalMilliseconds;
                record += model.LastRecordMs;
                submit += model.LastSubmitMs;
            }
            Array.Sort(times);
            var p = new ProfilePoint(context, n, times[reps / 2], times[0], times[^1], record / reps, submit / reps, model.LastDispatches);
            points.Add(p);
            progress?.Invoke(p);
            if (p.MedianMs > maxForwardMs && n != rows[^1])
            {
                note = $"stopped after {n} rows: a forward took {p.MedianMs:F0} ms, over --max-forward-ms {maxForwardMs:F0}";
                break;
            }
        }
        return new ContextProfile(context, points, note);
    }
}
