using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace TiDAR.Bench;

/// <summary>Where a case ran: the Vulkan device's name for GPU cases, the C# reference for CPU cases.</summary>
public sealed class DeviceColumn : IColumn
{
    public string Id => nameof(DeviceColumn);
    public string ColumnName => "Device";
    public string Legend => "Vulkan device of GPU cases (name, type, driver); CPU cases run the C# reference on the host CPU";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => false;
    public UnitType UnitType => UnitType.Dimensionless;

    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) =>
        benchmarkCase.Descriptor.HasCategory(BenchConfig.Gpu)
            ? SharedDevice.Description ?? "(not opened)"
            : "host CPU, C# reference (1 thread)";

    public override string ToString() => ColumnName;
}
