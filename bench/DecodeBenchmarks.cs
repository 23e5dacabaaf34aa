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
/// End-to-end greedy decoding on the default model (models/tidar-default.gguf, a TiDAR-trained Qwen3-layout
/// model): one op = prefill an English prompt and generate 64 tokens, AR or TiDAR exact greedy at k = 2, 4, 8,
/// or auto (planned from a latency profile measured in setup; one policy for all ops, as a session keeps one,
/// so what it learns carries over). The tokens/s columns come from the decoder's own statistics (decode
/// phase, prefill excluded).
/// </summary>
[Config(typeof(Config))]
[MemoryDiagnoser]
public class DecodeBenchmarks
{
    public const int NewTokens = 64, MaxRows = 128;
    public const string Prompt = "Once upon a time, there was a little girl named Lily. She loved to play outside in the sunshine.";

    [Params("ar", "k=2", "k=4", "k=8", "auto")]
    public string Mode { get; set; } = "ar";

    private static readonly ConcurrentDictionary<string, List<GenerationStats>> Stats = new();
    private static LoadedModel? _loaded;
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
        var path = DefaultModel.Find() ?? throw new FileNotFoundException($"{DefaultModel.RelativePath} not found; run from the repository.");
        _loaded ??= LoadedModel.Open(SharedDevice.Device, path, new LoadOptions { MaxRows = MaxRows });
        var model = _model = _loaded.Model;
        _prompt = _loaded.Tokenizer.Encode(Prompt, addSpecialTokens: true);
        _tidar = Mode switch
        {
            "ar" => null,
            "auto" => AutoOptions(model),
            _ => new TidarOptions { Block = int.Parse(Mode[2..]) },
        };
        Stats[Mode] = new List<GenerationStats>();
        Generate();
        Stats[Mode].Clear(); // the setup run warmed pipelines; keep only measured ops
    }

    private TidarOptions AutoOptions(GpuModel model)
    {
        var profile = LatencyProfile.Measure(model, LatencyProfile.DefaultRowCounts(MaxRows), _prompt.Length, repeats: 5);
        return new TidarOptions { Block = 1, AutoProfile = profile, Policy = new AutoBlockPolicy(profile, MaxRows) };
    }

    [Benchmark, BenchmarkCategory(BenchConfig.Gpu)]
    public int Generate()
    {
        var model = _model!;
        var options = new GenerationOptions { MaxTokens = NewTokens };
        int scratch = _tidar?.ScratchSlots(MaxRows) ?? 0;
        using var cache = model.CreateCache(_prompt.Length + NewTokens + scratch + 1);
        var r = _tidar is null ? new ArDecoder(model, cache).Generate(_prompt, options) : new TidarDecoder(model, cache).Generate(_prompt, options, _tidar);
        Stats[Mode].Add(r.Stats);
        return r.Tokens.Count;
    }
}
