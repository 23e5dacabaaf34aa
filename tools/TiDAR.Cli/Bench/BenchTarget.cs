using TiDAR.Engine.Model;
using TiDAR.Engine.Tokenizer;
using TiDAR.Engine.Vulkan;

namespace TiDAR.Cli.Bench;

/// <summary>
/// The model `tidar bench` measures: a GGUF file (--model) or a random-weight model of a named shape
/// (--random), on the device, opened for <c>maxRows</c> rows per forward (all of them output rows, as
/// in a TiDAR step).
/// </summary>
internal sealed class BenchTarget : IDisposable
{
    private readonly LoadedModel? _loaded;

    public GpuModel Model { get; }
    public ModelConfig Config => Model.Config;
    /// <summary>One line: what was measured.</summary>
    public string Description { get; }
    /// <summary>Short name for titles and file contents.</summary>
    public string Name { get; }
    public TextTokenizer? Tokenizer => _loaded?.Tokenizer;
    public bool IsRandom => _loaded is null;
    public double LoadSeconds { get; }

    private BenchTarget(GpuModel model, LoadedModel? loaded, string name, string description, double loadSeconds)
    {
        Model = model;
        _loaded = loaded;
        Name = name;
        Description = description;
        LoadSeconds = loadSeconds;
    }

    public static BenchTarget Open(GpuDevice device, string? modelPath, string? random, int maxRows)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        if (random is not null)
        {
            var r = RandomModels.Create(random);
            var model = r.Load(device, new GpuModelOptions { MaxRows = maxRows, MaxOutputRows = maxRows });
            return new BenchTarget(model, null, r.Name, $"{r.Description}; {model.WeightBytes / 1e6:F0} MB on the device", sw.Elapsed.TotalSeconds);
        }
        var path = ModelLocator.Resolve(modelPath);
        var loaded = LoadedModel.Open(device, path, new LoadOptions { MaxRows = maxRows });
        var c = loaded.Config;
        var desc = $"{Path.GetFileName(path)} ({ModelConfig.GgufName(c.Architecture)}, vocab {c.VocabSize}, dim {c.Dim}, {c.Layers} layers, " +
                   $"{c.Heads}/{c.KvHeads} heads x {c.HeadDim}, ffn {c.FfnDim}, {(c.TiedEmbeddings ? "tied" : "untied")}, " +
                   $"mask token {(c.MaskTokenId?.ToString() ?? "none")}, block {(c.BlockSize?.ToString() ?? "-")}; {loaded.Model.WeightBytes / 1e6:F0} MB on the device)";
        return new BenchTarget(loaded.Model, loaded, Path.GetFileNameWithoutExtension(path), desc, sw.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// The decode prompts: for a model with a tokenizer, fixed English openings padded by repetition to
    /// <paramref name="length"/> tokens; for random models, random ids (never the mask token) from a fixed seed.
    /// </summary>
    public IReadOnlyList<int[]> Prompts(int count, int length)
    {
        var prompts = new List<int[]>();
        string[] texts =
        [
            "Once upon a time, there was a little girl named Lily. She loved to play outside in the sunshine.",
            "The history of the printing press begins in the fifteenth century, when Johannes Gutenberg",
            "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
            "Q: What is the capital of France?\nA: The capital of France is Paris.\nQ: What is the capital of Italy?\nA:",
        ];
        var rng = new Random(4242);
        for (int p = 0; p < count; p++)
        {
            var ids = new int[length];
            if (Tokenizer is { } tok)
            {
                var seedIds = tok.Encode(texts[p % texts.Length], addSpecialTokens: true);
                if (seedIds.Length == 0) seedIds = [0];
                // The last `length` tokens of the text repeated: the prompt ends mid-text, as real ones do.
                for (int i = 0; i < length; i++) ids[i] = seedIds[(i + Math.Max(0, seedIds.Length - length)) % seedIds.Length];
            }
            else
            {
                for (int i = 0; i < length; i++)
                {
                    int t;
                    do t = rng.Next(Config.VocabSize); while (t == Config.MaskTokenId);
                    ids[i] = t;
                }
            }
            prompts.Add(ids);
        }
        return prompts;
    }

    public void Dispose()
    {
        if (_loaded is not null) _loaded.Dispose();
        else Model.Dispose();
    }
}
