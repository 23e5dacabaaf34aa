using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;

namespace TiDAR.Bench;

/// <summary>
/// Matrix x 512 rows (the prefill and draft-block shape): bound by arithmetic, so reported as
/// GFLOP/s of 2*M*N*K per op.
/// </summary>
[Config(typeof(Config))]
public class MatMulBenchmarks : ProductBenchmarks
{
    public const int Rows = 512;
    protected override int M => Rows;

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(BenchConfig.LongOps("MatMul"));
            AddColumn(StatisticColumn.Median, new DeviceColumn(), ThroughputColumn.GigaflopsPerSecond(_ => 2.0 * Rows * N * K));
        }
    }
}
