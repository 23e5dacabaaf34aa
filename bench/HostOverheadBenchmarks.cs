using BenchmarkDotNet.Jobs;
using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using TiDAR.Engine.Model;

namespace TiDAR.Bench;

/// <summary>
/// Host cost of one decode step: GpuModel.Forward of 1 row (AR) or 20 rows (a TiDAR k=4 step) with
/// device argmax, on random-weight models, after 128 cached positions. [MemoryDiagnoser] gives the managed bytes allocated per step;
/// the columns split the time into recording the command buffer (host) and submit+wait (the GPU's work
/// plus the driver's submit); the rest is host writes of the row data and the argmax read-back.
/// </summary>
[Config(typeof(Config))]
[MemoryDiagnoser]
public class HostOverheadBenchmarks
{
    /// <summary>Model and rows per forward: AR steps of both models and a TiDAR k=4 step (20 rows) of stories15m.</summary>
    [Params("stories15m x1", "stories15m x20", "qwen2.5-0.5b x1")]
    public string Step { get; set; } = "stories15m x1";

    public const int Context = 128;
    private static readonly ConcurrentDictionary<string, Totals> Times = new();
    private GpuModel? _model;
    private KvCache? _cache;
    private ForwardRow[] _rows = [];
    private int[] _outputs = [];
    private readonly System.Diagnostics.Stopwatch _clock = new();

    private sealed record Totals(double Total, double Record, double Submit, long Count, int Dispatches);

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(BenchConfig.ShortOps("HostOverhead").WithWarmupCount(2).WithIterationCount(6));
            AddColumn(StatisticColumn.Median, new DeviceColumn(),
                new FuncColumn("record ms", "Host time to record the forward's command buffer (GpuModel.LastRecordMs), mean over all ops run", (s, c) => Get(c, t => t.Record / t.Count, "F3"), 1),
                new FuncColumn("submit+wait ms", "Submit to fence signalled (GpuModel.LastSubmitMs): the device's work plus the driver's submit, mean", (s, c) => Get(c, t => t.Submit / t.Count, "F3"), 2),
                new FuncColumn("other host ms", "Forward's wall time - record - submit+wait, mean: row data and embedding writes, validation, argmax read-back",
                    (s, c) => Get(c, t => (t.Total - t.Record - t.Submit) / t.Count, "F3"), 3),
                new FuncColumn("dispatches", "Compute dispatches recorded per forward", (s, c) => Get(c, t => t.Dispatches, "F0"), 4));
        }
    }

    private static string Get(BenchmarkCase c, Func<Totals, double> f, string format) =>
        Times.TryGetValue((string)c.Parameters[nameof(Step)], out var t) && t.Count > 0 ? FuncColumn.F(f(t), format) : "NA";

    [GlobalSetup]
    public void Setup()
    {
        var parts = Step.Split(" x");
        string name = parts[0];
        int rows = int.Parse(parts[1]);
        var (spec, model) = name == RandomModels.Stories15M ? SharedModels.Get(name, 512) : SharedModels.Get(name, 20);
        _model = model;
        _cache = model.CreateCache(Context + rows);
        int token = spec.Config.MaskTokenId ?? 0;
        _rows = Enumerable.Range(0, rows).Select(i => new ForwardRow(token, Context + i, Context + i, Context, Context + i, Context + i + 1)).ToArray();
        _outputs = Enumerable.Range(0, rows).ToArray();
        model.Forward(_cache, _rows, _outputs, logits: false, argmax: true);
        Times[Step] = new Totals(0, 0, 0, 0, 0);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _cache?.Dispose();
        _cache = null;
    }

    [Benchmark, BenchmarkCategory(BenchConfig.Gpu)]
    public int Forward()
    {
        var m = _model!;
        _clock.Restart();
        var o = m.Forward(_cache!, _rows, _outputs, logits: false, argmax: true);
        double total = _clock.Elapsed.TotalMilliseconds;
        var t = Times[Step];
        Times[Step] = new Totals(t.Total + total, t.Record + m.LastRecordMs, t.Submit + m.LastSubmitMs, t.Count + 1, m.LastDispatches);
        return o.Argmax![0].Token;
    }
}
