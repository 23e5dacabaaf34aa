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
    public double At(int rows)
    {
        if (rows <= Rows[0]) return Milliseconds[0] * rows / Rows[0];
        for (int i = 1; i < Rows.Length; i++)
            if (rows <= Rows[i])
            {
                double t = (rows - Rows[i - 1]) / (double)(Rows[i] - Rows[i - 1]);
                return Milliseconds[i - 1] + t * (Milliseconds[i] - Milliseconds[i - 1]);
            }
        // Past the last point: extend the last segment's slope.
        int n = Rows.Length;
        double slope = n > 1 ? (Milliseconds[n - 1] - Milliseconds[n - 2]) / (Rows[n - 1] - Rows[n - 2]) : Milliseconds[0] / Rows[0];
        return Milliseconds[n - 1] + slope * (rows - Rows[n - 1]);
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
        var ms = new double[rows.Length];
        for (int r = 0; r < rows.Length; r++)
        {
            int n = rows[r];
            var list = new ForwardRow[n];
            for (int i = 0; i < n; i++) list[i] = new ForwardRow(0, context + i, context + i, context + i + 1, 0, 0);
            var times = new double[repeats];
            model.Forward(cache, list, [n - 1], logits: false, argmax: true);
            for (int t = 0; t < repeats; t++)
            {
                var sw = Stopwatch.StartNew();
                model.Forward(cache, list, Enumerable.Range(0, n).ToArray(), logits: false, argmax: true);
                times[t] = sw.Elapsed.TotalMilliseconds;
            }
            Array.Sort(times);
            ms[r] = times[repeats / 2];
            progress?.Report($"{n} rows: {ms[r]:F2} ms");
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
