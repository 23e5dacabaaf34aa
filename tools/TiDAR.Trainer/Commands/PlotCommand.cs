using System.Globalization;

namespace TiDAR.Trainer.Commands;

/// <summary>metrics.csv -> losses.png: training AR and diffusion losses (smoothed) and validation losses against tokens seen.</summary>
public static class PlotCommand
{
    public static int Run(Args a)
    {
        string run = a.Req("run");
        a.RejectUnknown();
        Plot(run);
        Console.WriteLine($"wrote {Path.Combine(run, "losses.png")}");
        return 0;
    }

    public static void Plot(string run)
    {
        var lines = File.ReadAllLines(Path.Combine(run, "metrics.csv"));
        var head = lines[0].Split(',');
        int Col(string n) => Array.IndexOf(head, n);
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToList();
        double P(string s) => double.Parse(s, CultureInfo.InvariantCulture);
        double[] tokens = rows.Select(r => P(r[Col("tokens")]) / 1e6).ToArray();
        double[] Smooth(string name)
        {
            var v = rows.Select(r => P(r[Col(name)])).ToArray();
            var o = new double[v.Length];
            double e = v.Length > 0 ? v[0] : 0;
            for (int i = 0; i < v.Length; i++) { e = i < 20 ? v.Take(i + 1).Average() : 0.97 * e + 0.03 * v[i]; o[i] = e; }
            return o;
        }
        var plt = new ScottPlot.Plot();
        void Line(double[] x, double[] y, string label, bool markers = false)
        {
            if (x.Length == 0) return;
            var s = plt.Add.Scatter(x, y);
            s.LegendText = label;
            s.MarkerSize = markers ? 5 : 0;
            s.LineWidth = 2;
        }
        Line(tokens, Smooth("ar_loss"), "train AR (smoothed)");
        Line(tokens, Smooth("diff_loss"), "train diffusion (smoothed, mixed k)");
        var val = rows.Where(r => r[Col("val_ar")] != "").ToList();
        double[] vt = val.Select(r => P(r[Col("tokens")]) / 1e6).ToArray();
        Line(vt, val.Select(r => P(r[Col("val_ar")])).ToArray(), "val AR", true);
        Line(vt, val.Select(r => P(r[Col("val_diff_k4")])).ToArray(), "val diffusion k=4", true);
        Line(vt, val.Select(r => P(r[Col("val_diff_k8")])).ToArray(), "val diffusion k=8", true);
        plt.Title("TiDAR training: AR and diffusion cross-entropy");
        plt.XLabel("clean tokens seen (millions)");
        plt.YLabel("cross-entropy (nats)");
        plt.ShowLegend(ScottPlot.Alignment.UpperRight);
        plt.SavePng(Path.Combine(run, "losses.png"), 1000, 600);
    }
}
