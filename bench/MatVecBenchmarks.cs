using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;

namespace TiDAR.Bench;

/// <summary>
/// Matrix x one vector (M = 1, the decode step's shape): bound by reading W, so reported as GB/s of
/// weight bytes read per op.
/// </summary>
[Config(typeof(Config))]
public class MatVecBenchmarks : ProductBenchmarks
{
    protected override int M => 1;

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(BenchConfig.ShortOps("MatVec"));
            AddColumn(StatisticColumn.Median, new DeviceColumn(), ThroughputColumn.GigabytesPerSecond(WeightBytesRead));
            AddColumn(FuncColumn.Bandwidth("Weight bytes read per op", WeightBytesRead)[1]);
        }
    }
}
