using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace TiDAR.Bench;

/// <summary>
/// Work per op divided by the mean time per op: GB/s (bytes per ns) or GFLOP/s (flops per ns).
/// The work of each case comes from a function, since it depends on the case's parameters.
/// </summary>
public sealed class ThroughputColumn : IColumn
{
    private readonly Func<BenchmarkCase, double> _workPerOp;

    private ThroughputColumn(string name, string legend, Func<BenchmarkCase, double> workPerOp)
    {
        ColumnName = name;
        Legend = legend;
        _workPerOp = workPerOp;
    }

    /// <summary>Bytes read per op / mean time.</summary>
    public static ThroughputColumn GigabytesPerSecond(Func<BenchmarkCase, double> bytesPerOp) =>
        new("GB/s", "Weight bytes read per op / mean time (1 GB = 1e9 bytes)", bytesPerOp);

    /// <summary>Floating-point operations per op / mean time.</summary>
    public static ThroughputColumn GigaflopsPerSecond(Func<BenchmarkCase, double> flopsPerOp) =>
        new("GFLOP/s", "2*M*N*K per op / mean time", flopsPerOp);

    public string Id => nameof(ThroughputColumn) + "." + ColumnName;
    public string ColumnName { get; }
    public string Legend { get; }
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 1;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;

    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
        if (meanNs is not > 0) return "NA";
        // Work per nanosecond is work per second in units of 1e9.
        return (_workPerOp(benchmarkCase) / meanNs.Value).ToString("F2", System.Globalization.CultureInfo.InvariantCulture);
    }

    public override string ToString() => ColumnName;
}
