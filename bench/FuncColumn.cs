using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace TiDAR.Bench;

/// <summary>A custom column whose cell is computed from the summary and the case (rates, ratios, counters the benchmark kept).</summary>
public sealed class FuncColumn(string name, string legend, Func<Summary, BenchmarkCase, string> value, int priority = 2) : IColumn
{
    public string Id => nameof(FuncColumn) + "." + name;
    public string ColumnName => name;
    public string Legend => legend;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => priority;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => value(summary, benchmarkCase);
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => value(summary, benchmarkCase);
    public override string ToString() => ColumnName;

    internal static string F(double v, string format = "F2") => double.IsNaN(v) || double.IsInfinity(v) ? "NA" : v.ToString(format, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Mean time of a case in ns, or NaN when it did not run.</summary>
    internal static double MeanNs(Summary s, BenchmarkCase c) => s[c]?.ResultStatistics?.Mean ?? double.NaN;

    /// <summary>Bytes per op / mean time as GB/s, and as a fraction of the device's copy bandwidth.</summary>
    public static IColumn[] Bandwidth(string what, Func<BenchmarkCase, double> bytesPerOp) =>
    [
        new FuncColumn("GB/s", $"{what} / mean time (1 GB = 1e9 bytes)", (s, c) => c.Descriptor.HasCategory(BenchConfig.Gpu) ? F(bytesPerOp(c) / MeanNs(s, c)) : "NA", 1),
        new FuncColumn("of copy BW", $"GB/s over the device's buffer-to-buffer copy rate ({CopyBandwidth.Text}; bytes copied / time, each read once and written once)",
            (s, c) => c.Descriptor.HasCategory(BenchConfig.Gpu) && CopyBandwidth.GigabytesPerSecond is double bw ? F(bytesPerOp(c) / MeanNs(s, c) / bw, "P1") : "NA", 2),
    ];
}
