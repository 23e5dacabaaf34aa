using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using TiDAR.Engine.Model;

namespace TiDAR.Bench;

/// <summary>
/// The free-slot profile (DESIGN.md section 1) on a random-weight model of a real shape: one forward of
/// <see cref="Rows"/> rows after <see cref="Context"/> cached positions, every row an output row with
/// device argmax (a TiDAR step's shape; rows see the context and themselves). "x 1 row" is the ratio to
/// the one-row forward at the same context: rows with a ratio near 1 are free.
/// </summary>
public abstract class FreeSlotBenchmarks
{
    protected abstract string ModelName { get; }
    /// <summary>Rows the shared model is opened for (its largest forward).</summary>
    protected abstract int MaxRows { get; }

    public abstract int Context { get; set; }
    public abstract int Rows { get; set; }

    private GpuModel? _model;
    private KvCache? _cache;
    private ForwardRow[] _rows = [];
    private int[] _outputs = [];

    protected static IColumn[] Columns(Func<double> weightBytes) =>
    [
        StatisticColumn.Median, new DeviceColumn(),
        new FuncColumn("x 1 row", "Mean time over the mean time of the 1-row case at the same context (1.0-1.2 = free rows)", OneRowRatio, 1),
        new FuncColumn("ms/row", "Mean time / rows", (s, c) => FuncColumn.F(FuncColumn.MeanNs(s, c) / 1e6 / (int)c.Parameters[nameof(Rows)], "F3"), 2),
        .. FuncColumn.Bandwidth("Device weight bytes per forward (read once)", _ => weightBytes()),
    ];

    private static string OneRowRatio(Summary s, BenchmarkCase c)
    {
        var one = s.BenchmarksCases.FirstOrDefault(o => o.Descriptor.Type == c.Descriptor.Type
            && Equals(o.Parameters[nameof(Context)], c.Parameters[nameof(Context)]) && (int)o.Parameters[nameof(Rows)] == 1);
        return one is null ? "NA" : FuncColumn.F(FuncColumn.MeanNs(s, c) / FuncColumn.MeanNs(s, one));
    }

    [GlobalSetup]
    public void Setup()
    {
        CopyBandwidth.Ensure(SharedDevice.Device);
        var (spec, model) = SharedModels.Get(ModelName, MaxRows);
        _model = model;
        _cache = model.CreateCache(Context + Rows);
        int token = spec.Config.MaskTokenId ?? 0;
        _rows = Enumerable.Range(0, Rows).Select(i => new ForwardRow(token, Context + i, Context + i, Context, Context + i, Context + i + 1)).ToArray();
        _outputs = Enumerable.Range(0, Rows).ToArray();
        Forward(); // pipelines, first-touch of the cache
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _cache?.Dispose();
        _cache = null;
    }

    /// <summary>One forward: host writes, record, submit and wait, argmax read back.</summary>
    [Benchmark, BenchmarkCategory(BenchConfig.Gpu)]
    public int Forward() => _model!.Forward(_cache!, _rows, _outputs, logits: false, argmax: true).Argmax![0].Token;
}

/// <summary>
/// stories15m shape (llama, dim 288, 6 layers, vocab 32000, f32): rows 1..128 at contexts 128 and 1024
/// (`tidar bench --random stories15m` runs the same profile up to 512 rows; here the run stays short).
/// </summary>
[Config(typeof(Config))]
public class FreeSlotStories15M : FreeSlotBenchmarks
{
    protected override string ModelName => RandomModels.Stories15M;
    protected override int MaxRows => 512;

    [Params(128, 1024)] public override int Context { get; set; }
    [Params(1, 2, 4, 8, 16, 32, 64, 128)] public override int Rows { get; set; }

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(BenchConfig.FewOps("FreeSlot"));
            AddColumn(Columns(() => SharedModels.Get(RandomModels.Stories15M, 512).Model.WeightBytes));
        }
    }
}

/// <summary>
/// qwen2.5-0.5b shape (qwen2, dim 896, 24 layers, vocab 151936 tied, q8_0): rows 1..16 only, since a
/// forward of 16 rows already takes seconds on a CPU driver.
/// </summary>
[Config(typeof(Config))]
public class FreeSlotQwen25_05B : FreeSlotBenchmarks
{
    protected override string ModelName => RandomModels.Qwen25_05B;
    protected override int MaxRows => 20;

    [Params(128, 1024)] public override int Context { get; set; }
    [Params(1, 2, 4, 8, 16)] public override int Rows { get; set; }

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(BenchConfig.FewOps("FreeSlot"));
            AddColumn(Columns(() => SharedModels.Get(RandomModels.Qwen25_05B, 20).Model.WeightBytes));
        }
    }
}
