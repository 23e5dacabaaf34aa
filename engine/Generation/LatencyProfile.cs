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
    /// positions), median of <paramref name="repeats"/> runs each, after one warm-up.
    /// </summary>
    public static LatencyProfile Measure(GpuModel model, int[] rows, int context, int repeats = 3, IProgress<string>? progress = null)
    {
        int max = rows.Max();
        using var cache = model.CreateCache(context + max);
        var lists = new ForwardRow[rows.Length][];
        var outputs = new int[rows.Length][];
        for (int r = 0; r < rows.Length; r++)
        {
            int n = rows[r];
            lists[r] = new ForwardRow[n];
            for (int i = 0; i < n; i++) lists[r][i] = new ForwardRow(0, context + i, context + i, context + i + 1, 0, 0);
            outputs[r] = Enumerable.Range(0, n).ToArray();
            model.Forward(cache, lists[r], outputs[r], logits: false, argmax: true);  // warm-up: pipelines, caches
        }
        // Rounds over all row counts rather than all repeats of one count after another, so a burst of
        // load from elsewhere lands on every count alike instead of bending the curve at one point.
        var times = new double[rows.Length][];
        for (int r = 0; r < rows.Length; r++) times[r] = new double[repeats];
        for (int t = 0; t < repeats; t++)
            for (int r = 0; r < rows.Length; r++)
            {
                var sw = Stopwatch.StartNew();
                model.Forward(cache, lists[r], outputs[r], logits: false, argmax: true);
                times[r][t] = sw.Elapsed.TotalMilliseconds;
            }
        var ms = new double[rows.Length];
        for (int r = 0; r < rows.Length; r++)
        {
            Array.Sort(times[r]);
            ms[r] = times[r][repeats / 2];
            progress?.Report($"{rows[r]} rows: {ms[r]:F2} ms");
        }
        return new LatencyProfile(rows, ms, context);
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
