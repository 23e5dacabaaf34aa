using System.Diagnostics;
using System.Text.Json;
using TiDAR.Engine.Model;

namespace TiDAR.Engine.Generation;

/// <summary>
/// Forward latency against the number of rows in a step, measured on one device for one model: the
/// "free token slots" curve that decides how much drafting costs. Linear between measured points.
/// </summary>
public sealed record LatencyProfile(int[] Rows, double[] Milliseconds, int Context)
{
    /// <summary>
    /// Latency of a forward of <paramref name="rows"/> rows, linear between measured points. Read through
    /// the lower envelope from the right (each point at most every later one): on any device a forward of
    /// more rows does the work of fewer and more, so a measured dip (a 1-row forward slower than a 2-row
    /// one) is timing noise, and planning on it would pay extra rows for nothing.
    /// </summary>
    public double At(int rows)
    {
        var ms = Envelope;
        if (rows <= Rows[0]) return ms[0] * rows / Rows[0];
        for (int i = 1; i < Rows.Length; i++)
            if (rows <= Rows[i])
            {
                double t = (rows - Rows[i - 1]) / (double)(Rows[i] - Rows[i - 1]);
                return ms[i - 1] + t * (ms[i] - ms[i - 1]);
            }
        // Past the last point: extend the last segment's slope.
        int n = Rows.Length;
        double slope = n > 1 ? (ms[n - 1] - ms[n - 2]) / (Rows[n - 1] - Rows[n - 2]) : ms[0] / Rows[0];
        return ms[n - 1] + slope * (rows - Rows[n - 1]);
    }

    private double[]? _envelope;
    private double[] Envelope => _envelope ??= LowerEnvelope(Milliseconds);

    private static double[] LowerEnvelope(double[] ms)
    {
        var e = (double[])ms.Clone();
        for (int i = e.Length - 2; i >= 0; i--) e[i] = Math.Min(e[i], e[i + 1]);
        return e;
    }

    /// <summary>Row counts worth measuring up to <paramref name="maxRows"/>: 1, 2, 3, 4, 6, 8, ... and the TiDAR step sizes k(k+1).</summary>
    public static int[] DefaultRowCounts(int maxRows)
    {
        var set = new SortedSet<int> { 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512 };
        for (int k = 1; k * (k + 1) <= maxRows; k++) { set.Add(k * (k + 1)); set.Add(k + 1); }
        return set.Where(r => r <= maxRows).ToArray();
    }

    /// <summary>
    /// Times forwards of n rows (mask-like rows in scratch slots after <paramref name="context"/> cached
    /// positions), median of <paramref name="repeats"/> runs each, after one warm-up. Row counts are taken in
    /// ascending order and the curve stops after the first count whose forward costs more than
    /// <paramref name="stopAtRatio"/> times one row's (0: never): a step that expensive cannot pay for its drafts,
    /// the planner extends the last slope past it, and on a slow device the larger counts would take minutes.
    /// </summary>
    public static LatencyProfile Measure(GpuModel model, int[] rows, int context, int repeats = 3, IProgress<string>? progress = null,
        double stopAtRatio = 0)
    {
        if (rows.Length == 0 || rows.Any(r => r < 1)) throw new ArgumentException("Row counts must be >= 1.");
        if (repeats < 1) throw new ArgumentOutOfRangeException(nameof(repeats), "At least one timed forward per row count.");
        rows = rows.Order().Distinct().ToArray();
        int max = rows.Max();
        using var cache = model.CreateCache(context + max);
        var lists = new List<ForwardRow[]>();
        var outputs = new List<int[]>();
        var first = new List<double>();
        foreach (int n in rows)
        {
            var list = new ForwardRow[n];
            for (int i = 0; i < n; i++) list[i] = new ForwardRow(0, context + i, context + i, context + i + 1, 0, 0);
            var outs = Enumerable.Range(0, n).ToArray();
            model.Forward(cache, list, outs, logits: false, argmax: true);  // warm-up: pipelines, caches
            var sw = Stopwatch.StartNew();
            model.Forward(cache, list, outs, logits: false, argmax: true);
            lists.Add(list);
            outputs.Add(outs);
            first.Add(sw.Elapsed.TotalMilliseconds);
            if (stopAtRatio > 0 && lists.Count > 1 && first[^1] > stopAtRatio * first[0]) break;
        }
        // The other repeats in rounds over all row counts rather than one count after another, so a burst of
        // load from elsewhere lands on every count alike instead of bending the curve at one point.
        int counts = lists.Count;
        var times = new double[counts][];
        for (int r = 0; r < counts; r++) { times[r] = new double[repeats]; times[r][0] = first[r]; }
        for (int t = 1; t < repeats; t++)
            for (int r = 0; r < counts; r++)
            {
                var sw = Stopwatch.StartNew();
                model.Forward(cache, lists[r], outputs[r], logits: false, argmax: true);
                times[r][t] = sw.Elapsed.TotalMilliseconds;
            }
        var ms = new double[counts];
        for (int r = 0; r < counts; r++)
        {
            Array.Sort(times[r]);
            ms[r] = times[r][repeats / 2];
            progress?.Report($"{rows[r]} rows: {ms[r]:F2} ms");
        }
        return new LatencyProfile(rows[..counts], ms, context);
    }

    public void Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(new Stored(Rows, Milliseconds, Context), StoredContext.Default.Stored));
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>The cached profile, or null when missing or unreadable (then it is measured again).</summary>
    public static LatencyProfile? Load(string path)
    {
        try
        {
            if (!File.Exists(path)) return null;
            var s = JsonSerializer.Deserialize(File.ReadAllText(path), StoredContext.Default.Stored);
            if (s is null || s.Rows.Length == 0 || s.Rows.Length != s.Milliseconds.Length || s.Rows[0] < 1) return null;
            if (s.Milliseconds.Any(m => !(m > 0) || double.IsInfinity(m))) return null;
            for (int i = 1; i < s.Rows.Length; i++) if (s.Rows[i] <= s.Rows[i - 1]) return null;
            return new LatencyProfile(s.Rows, s.Milliseconds, s.Context);
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException) { return null; }
    }

    internal sealed record Stored(int[] Rows, double[] Milliseconds, int Context);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(LatencyProfile.Stored))]
internal sealed partial class StoredContext : System.Text.Json.Serialization.JsonSerializerContext;
