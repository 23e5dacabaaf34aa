// Compiled only when the CLI project references ScottPlot and defines SCOTTPLOT (see BenchCommand), so the
// CLI builds without the package.
#if SCOTTPLOT
using ScottPlot;

namespace TiDAR.Cli.Bench;

/// <summary>PNG plots of `tidar bench` (ScottPlot): the free-slot profile and tokens/s against k.</summary>
internal static class BenchPlots
{
    private const int Width = 900, Height = 560;

    /// <summary>Latency against rows, both axes logarithmic, one line per context; the dotted lines mark 1.2x one row's latency.</summary>
    public static void FreeSlotProfile(string path, IReadOnlyList<ContextProfile> profiles, string title, string subtitle)
    {
        var plot = new Plot();
        var rows = profiles.SelectMany(p => p.Points.Select(x => x.Rows)).Distinct().Order().ToArray();
        foreach (var p in profiles)
        {
            var s = plot.Add.Scatter(p.Points.Select(x => Math.Log2(x.Rows)).ToArray(), p.Points.Select(x => Math.Log10(x.MedianMs)).ToArray());
            s.LegendText = $"context {p.Context}: 1 row {p.OneRowMs:F1} ms, free rows at +20%: {p.FreeRows(0.20)}";
            s.MarkerSize = 7;
            s.LineWidth = 2;
            var limit = plot.Add.HorizontalLine(Math.Log10(p.OneRowMs * 1.2));
            limit.Color = s.Color;
            limit.LinePattern = LinePattern.Dotted;
            limit.LineWidth = 1;
        }
        plot.Axes.Bottom.SetTicks(rows.Select(r => Math.Log2(r)).ToArray(), rows.Select(r => r.ToString()).ToArray());
        // Log10 y with 1-2-5 ticks.
        double lo = profiles.SelectMany(p => p.Points).Min(x => x.MedianMs), hi = profiles.SelectMany(p => p.Points).Max(x => x.MedianMs);
        var ticks = new List<double>();
        for (double decade = Math.Pow(10, Math.Floor(Math.Log10(lo))); decade <= hi * 10; decade *= 10)
            foreach (double m in new[] { 1.0, 2.0, 5.0 })
                if (decade * m >= lo / 2 && decade * m <= hi * 2) ticks.Add(decade * m);
        plot.Axes.Left.SetTicks(ticks.Select(Math.Log10).ToArray(), ticks.Select(t => t >= 1 ? t.ToString("0") : t.ToString("0.##")).ToArray());
        plot.Axes.SetLimitsY(Math.Log10(lo / 1.3), Math.Log10(hi * 1.3));
        plot.Axes.Bottom.Label.Text = "rows in one forward (all output rows)";
        plot.Axes.Left.Label.Text = "forward latency, ms (median, log scale)";
        plot.Title($"{title}\n{subtitle}");
        plot.Axes.Title.Label.FontSize = 13;
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(path, Width, Height);
    }

    /// <summary>Measured tokens/s against k (and predicted, if given), with AR and auto as horizontal lines.</summary>
    public static void TokensPerSecond(string path, IReadOnlyList<DecodeRow> rows, Prediction? predicted, string title, string subtitle)
    {
        var plot = new Plot();
        var fixedK = rows.Where(r => r.Mode.StartsWith("k=")).OrderBy(r => r.K).ToArray();
        double top = rows.Max(r => r.TokensPerSecond);
        if (fixedK.Length > 0)
        {
            var s = plot.Add.Scatter(fixedK.Select(r => (double)r.K).ToArray(), fixedK.Select(r => r.TokensPerSecond).ToArray());
            s.LegendText = "TiDAR exact greedy, measured";
            s.MarkerSize = 8;
            s.LineWidth = 2;
            if (predicted is not null)
            {
                var ks = fixedK.Select(r => r.K).Where(predicted.ByK.ContainsKey).ToArray();
                var pr = plot.Add.Scatter(ks.Select(k => (double)k).ToArray(), ks.Select(k => predicted.ByK[k]).ToArray());
                pr.LegendText = $"predicted from the profile at alpha {predicted.Alpha:F2}";
                pr.LinePattern = LinePattern.Dashed;
                pr.MarkerSize = 5;
                top = Math.Max(top, ks.Select(k => predicted.ByK[k]).DefaultIfEmpty(0).Max());
            }
            plot.Axes.Bottom.SetTicks(fixedK.Select(r => (double)r.K).ToArray(), fixedK.Select(r => $"k={r.K}\n({r.K * (r.K + 1)} rows)").ToArray());
        }
        var ar = rows.First(r => r.Mode == "ar");
        var arLine = plot.Add.HorizontalLine(ar.TokensPerSecond);
        arLine.LegendText = $"AR: {ar.TokensPerSecond:F2} tokens/s";
        arLine.LineWidth = 2;
        arLine.Color = Colors.Black;
        if (rows.FirstOrDefault(r => r.Mode == "auto") is { } auto)
        {
            var autoLine = plot.Add.HorizontalLine(auto.TokensPerSecond);
            autoLine.LegendText = $"auto: {auto.TokensPerSecond:F2} tokens/s ({auto.Plan})";
            autoLine.LinePattern = LinePattern.Dashed;
            autoLine.Color = Colors.Green;
        }
        plot.Axes.Bottom.Label.Text = "TiDAR block size k";
        plot.Axes.Left.Label.Text = "decode tokens/s";
        plot.Title($"{title}\n{subtitle}");
        plot.Axes.Title.Label.FontSize = 13;
        plot.Axes.SetLimitsY(0, top * 1.15);
        if (fixedK.Length > 0) plot.Axes.SetLimitsX(fixedK[0].K - 1, fixedK[^1].K + 1);
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, Width, Height);
    }
}
#endif
