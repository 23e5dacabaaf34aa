using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using TiDAR.Engine.Generation;
using TiDAR.Engine.Model;

namespace TiDAR.Bench;

/// <summary>
/// End-to-end greedy decoding on random-weight stories15m: one op = prefill a 32-token prompt and
/// generate 16 tokens, AR or TiDAR exact greedy (k = 2, 4, or auto planned from a latency profile measured
/// at context 32 in setup). The tokens/s columns come from the decoder's own statistics (decode phase,
/// prefill excluded); random weights draft almost nothing that AR accepts, so TiDAR commits about one
/// token per forward here and auto should fall back to AR.
/// </summary>
[Config(typeof(Config))]
[MemoryDiagnoser]
public class DecodeBenchmarks
{
    public const int PromptTokens = 32, NewTokens = 16, MaxRows = 512;

    [Params("ar", "k=2", "k=4", "auto")]
    public string Mode { get; set; } = "ar";

    private static readonly ConcurrentDictionary<string, List<GenerationStats>> Stats = new();
    private GpuModel? _model;
    private int[] _prompt = [];
    private TidarOptions? _tidar;

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(BenchConfig.FewOps("Decode"));
            AddColumn(StatisticColumn.Median, new DeviceColumn(),
                new FuncColumn("decode tok/s", "Tokens after the first over decode time (prefill excluded), mean over the measured ops", (s, c) => Stat(c, x => x.TokensPerSecond), 1),
                new FuncColumn("tok/s incl. prefill", $"{NewTokens} tokens / mean time of the whole op", (s, c) => FuncColumn.F(NewTokens / (FuncColumn.MeanNs(s, c) / 1e9)), 2),
                new FuncColumn("tokens/forward", "Generated tokens / forwards (prefill's last forward included)", (s, c) => Stat(c, x => x.TokensPerForward), 3),
                new FuncColumn("rows/step", "Rows per decode forward", (s, c) => Stat(c, x => x.RowsPerForward), 4),
                new FuncColumn("plan", "TiDAR plan at the end of the last op (auto: its choice and acceptance estimate)",
                    (s, c) => Stats.TryGetValue((string)c.Parameters[nameof(Mode)], out var l) && l.Count > 0 ? l[^1].Plan.Replace(",", ";") : "NA", 5));
        }
    }

    private static string Stat(BenchmarkCase c, Func<GenerationStats, double> f) =>
        Stats.TryGetValue((string)c.Parameters[nameof(Mode)], out var l) && l.Count > 0 ? FuncColumn.F(l.Average(f)) : "NA";

    [GlobalSetup]
    public void Setup()
    {
        var (spec, model) = SharedModels.Get(RandomModels.Stories15M, MaxRows);
        _model = model;
        var rng = new Random(7);
        _prompt = Enumerable.Range(0, PromptTokens).Select(_ => rng.Next(spec.Config.VocabSize - 1)).ToArray();
        _tidar = Mode switch
        {
            "ar" => null,
            "auto" => new TidarOptions { Block = 1, AutoProfile = LatencyProfile.Measure(model, [1, 2, 4, 8, 16, 32, 64, 128], PromptTokens, repeats: 1) },
            _ => new TidarOptions { Block = int.Parse(Mode[2..]) },
        };
        Stats[Mode] = new List<GenerationStats>();
        Generate();
        Stats[Mode].Clear(); // the setup run warmed pipelines; keep only measured ops
    }

    [Benchmark, BenchmarkCategory(BenchConfig.Gpu)]
    public int Generate()
    {
        var model = _model!;
        var options = new GenerationOptions { MaxTokens = NewTokens };
        int scratch = _tidar?.ScratchSlots(MaxRows) ?? 0;
        using var cache = model.CreateCache(PromptTokens + NewTokens + scratch + 1);
        var r = _tidar is null ? new ArDecoder(model, cache).Generate(_prompt, options) : new TidarDecoder(model, cache).Generate(_prompt, options, _tidar);
        Stats[Mode].Add(r.Stats);
        return r.Tokens.Count;
    }
}
