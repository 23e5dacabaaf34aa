using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using TiDAR.Engine.Vulkan;

namespace TiDAR.Bench;

/// <summary>
/// One layer's attention (Kernels.Attention) of qwen2.5-0.5b's shape (14 query heads over 2 KV heads of
/// 64, fp16 cache) over a filled cache of <see cref="Context"/> positions, for one row (AR decode) and
/// 20 rows (a TiDAR k=4 step; row i sees the context and rows 0..i). Bound by reading the cache, so
/// reported as GB/s of K and V bytes read once per op.
/// </summary>
[Config(typeof(Config))]
public class AttentionBenchmarks
{
    public const int Heads = 14, KvHeads = 2, HeadDim = 64, KvDim = KvHeads * HeadDim;

    [Params(128, 512, 1024, 2048, 4096)]
    public int Context { get; set; }

    [Params(1, 20)]
    public int Rows { get; set; }

    private GpuBuffer? _q, _k, _v, _vis, _out;
    private CommandRecorder? _rec;

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(BenchConfig.ShortOps("Attention"));
            AddColumn(StatisticColumn.Median, new DeviceColumn());
            AddColumn(FuncColumn.Bandwidth("K and V bytes of the context read per op", CacheBytes));
        }
    }

    public static double CacheBytes(BenchmarkCase c) => 2.0 * (int)c.Parameters[nameof(Context)] * KvDim * 2;

    [GlobalSetup]
    public void Setup()
    {
        var device = SharedDevice.Device;
        CopyBandwidth.Ensure(device);
        int capacity = Context + Rows;
        // The cache holds fp16 K and V: fill every slot the rows see with values in [-1, 1).
        var kv = BenchData.Values(capacity * KvDim, 11).Select(v => (Half)v).ToArray();
        _k = device.Upload<Half>(kv, "bench.k-cache");
        _v = device.Upload<Half>(BenchData.Values(capacity * KvDim, 12).Select(v => (Half)v).ToArray(), "bench.v-cache");
        _q = device.Upload<float>(BenchData.Values(Rows * Heads * HeadDim, 13), "bench.q");
        var vis = new uint[Rows * 4];
        for (int i = 0; i < Rows; i++) vis[i * 4] = (uint)(Context + i + 1);
        _vis = device.Upload<uint>(vis, "bench.visibility");
        _out = device.Allocate((ulong)Rows * Heads * HeadDim * 4, "bench.att");
        _rec = new CommandRecorder(device);
        SharedDevice.Kernels.Attention(_rec, _q, _k, _v, _vis, _out, Rows, Heads, KvHeads, HeadDim, capacity, 1f / MathF.Sqrt(HeadDim), f16Cache: true);
        _rec.SubmitAndWait();
        var o = device.Read<float>(_out, Rows * Heads * HeadDim);
        if (o.Any(x => !float.IsFinite(x) || MathF.Abs(x) > 1.01f))
            throw new InvalidOperationException("Attention produced values outside the range of V: the kernel is broken; nothing to measure.");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _rec?.Dispose();
        foreach (var b in new[] { _q, _k, _v, _vis, _out }) b?.Dispose();
        _rec = null; _q = _k = _v = _vis = _out = null;
    }

    /// <summary>One submission of the recorded attention dispatch.</summary>
    [Benchmark, BenchmarkCategory(BenchConfig.Gpu)]
    public void Gpu() => _rec!.SubmitAndWait();
}
