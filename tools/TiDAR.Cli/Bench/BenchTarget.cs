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
    /// The decode prompts: for a model with a tokenizer, fixed English openings as they are (cut to
    /// <paramref name="length"/> tokens, never padded: a prompt that repeats itself is not what users send,
    /// and drafts accept very differently on it); for random models, <paramref name="length"/> random ids
    /// (never the mask token) from a fixed seed.
    /// </summary>
    public IReadOnlyList<int[]> Prompts(int count, int length)
    {
        var prompts = new List<int[]>();
        string[] texts =
        [
            "Once upon a time, there was a little girl named Lily. She loved to play outside in the sunshine with her dog, and every morning she",
            "The history of the printing press begins in the fifteenth century, when a goldsmith in Mainz found a way to cast letters in metal and",
            "It was a cold evening in November. The wind came down from the hills, and the old man at the window watched the lights of the town",
            "Fellow citizens, we meet today at a time of great change. The work of the nation is not finished, and the duty of this Congress is",
            "The ship had been at sea for forty days when the first sailor saw the coast. The captain called his men together and told them that",
            "My dear sister, I write to you from the house by the river. The weather has been kind, and the children are well, but I must tell you",
            "In the spring of that year the farmers of the valley planted more wheat than ever before, for the price of bread had risen and",
            "The committee met again on Tuesday to consider the report. Several members asked why the figures for the last quarter were so",
        ];
        var rng = new Random(4242);
        for (int p = 0; p < count; p++)
        {
            int[] ids;
            if (Tokenizer is { } tok)
            {
                ids = tok.Encode(texts[p % texts.Length], addSpecialTokens: true);
                if (ids.Length == 0) ids = [0];
                if (ids.Length > length) ids = ids[..length];
            }
            else
            {
                ids = new int[length];
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
