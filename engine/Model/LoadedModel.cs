using TiDAR.Engine.Gguf;
using TiDAR.Engine.Tokenizer;
using TiDAR.Engine.Vulkan;

namespace TiDAR.Engine.Model;

/// <summary>How a GGUF model is opened for inference.</summary>
public sealed record LoadOptions
{
    /// <summary>Most rows (and output rows) per forward: the prefill chunk and the largest TiDAR step.</summary>
    public int MaxRows { get; init; } = 128;
}

/// <summary>A GGUF file opened for inference: hyperparameters, tokenizer and weights on the device.</summary>
public sealed class LoadedModel : IDisposable
{
    public string Path { get; }
    public GgufFile File { get; }
    public ModelConfig Config { get; }
    public TextTokenizer Tokenizer { get; }
    public GpuModel Model { get; }

    private LoadedModel(string path, GgufFile file, ModelConfig config, TextTokenizer tokenizer, GpuModel model)
    {
        Path = path;
        File = file;
        Config = config;
        Tokenizer = tokenizer;
        Model = model;
    }

    /// <summary>Reads hyperparameters and tokenizer without touching the device.</summary>
    public static (ModelConfig Config, TextTokenizer Tokenizer) ReadHeader(GgufFile file)
    {
        var tokenizer = TextTokenizer.FromGgufMetadata(file.Metadata);
        var config = ModelConfig.FromGgufMetadata(file.Metadata, tokenizer.VocabSize);
        config = config with { TiedEmbeddings = file.FindTensor(TensorNames.Output) is null };
        var embedding = file.FindTensor(TensorNames.TokenEmbedding)
            ?? throw new InvalidDataException($"{file.Path} has no {TensorNames.TokenEmbedding} tensor; it is not a decoder model the engine can run.");
        if (embedding.Dimensions.Length != 2 || (long)embedding.Dimensions[1] != config.VocabSize)
            throw new InvalidDataException($"{TensorNames.TokenEmbedding} is {embedding.Shape()} but the tokenizer has {tokenizer.VocabSize} tokens.");
        return (config, tokenizer);
    }

    public static LoadedModel Open(GpuDevice device, string path, LoadOptions? options = null) =>
        Open(device, path, _ => options ?? new LoadOptions());

    /// <summary>Opens a model with options chosen from its hyperparameters (read once, before any weight is loaded).</summary>
    public static LoadedModel Open(GpuDevice device, string path, Func<ModelConfig, LoadOptions> chooseOptions)
    {
        if (!System.IO.File.Exists(path)) throw new FileNotFoundException($"Model file '{path}' does not exist.", path);
        var file = GgufFile.Open(path);
        try
        {
            var (config, tokenizer) = ReadHeader(file);
            var options = chooseOptions(config);
            var model = new GpuModel(device, config, new GgufWeightSource(file), new GpuModelOptions { MaxRows = options.MaxRows, MaxOutputRows = options.MaxRows });
            return new LoadedModel(path, file, config, tokenizer, model);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Model.Dispose();
        File.Dispose();
    }
}
