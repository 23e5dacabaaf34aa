using System.Text.Json;

namespace TiDAR.WeightsConvert;

/// <summary>
/// A Hugging Face checkpoint folder: config.json, the weights as model.safetensors or as shards listed by
/// model.safetensors.index.json ("weight_map": tensor name -> shard file), tokenizer.json, and optionally
/// tokenizer_config.json and generation_config.json. Opening it parses the config and maps every weight file
/// (validating their headers); missing files throw <see cref="FileNotFoundException"/> naming the file.
/// </summary>
public sealed class HfCheckpoint : IDisposable
{
    public const string ConfigFile = "config.json";
    public const string SingleWeightsFile = "model.safetensors";
    public const string IndexFile = "model.safetensors.index.json";
    public const string TokenizerFile = "tokenizer.json";
    public const string TokenizerConfigFile = "tokenizer_config.json";
    public const string GenerationConfigFile = "generation_config.json";

    private readonly List<SafetensorsFile> _files;
    private readonly Dictionary<string, (SafetensorsFile File, SafetensorsTensorInfo Info)> _tensors;

    public string Directory { get; }
    public HfConfig Config { get; }
    public string TokenizerPath { get; }
    public string? TokenizerConfigPath { get; }
    public string? GenerationConfigPath { get; }
    /// <summary>The weight files, model.safetensors or the shards in index order.</summary>
    public IReadOnlyList<SafetensorsFile> Files => _files;
    /// <summary>Every tensor of the checkpoint under its Hugging Face name, in file and header order.</summary>
    public IEnumerable<string> TensorNames => _tensors.Keys;

    private HfCheckpoint(string dir, HfConfig config, string tokenizer, string? tokenizerConfig, string? generationConfig,
        List<SafetensorsFile> files, Dictionary<string, (SafetensorsFile, SafetensorsTensorInfo)> tensors)
    {
        Directory = dir;
        Config = config;
        TokenizerPath = tokenizer;
        TokenizerConfigPath = tokenizerConfig;
        GenerationConfigPath = generationConfig;
        _files = files;
        _tensors = tensors;
    }

    public static HfCheckpoint Open(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string dir = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(dir))
            throw new DirectoryNotFoundException($"Checkpoint folder '{dir}' does not exist.");
        string? Optional(string name) => File.Exists(Path.Combine(dir, name)) ? Path.Combine(dir, name) : null;

        string? generation = Optional(GenerationConfigFile);
        var config = HfConfig.Load(Path.Combine(dir, ConfigFile), generation);
        string tokenizer = Optional(TokenizerFile)
            ?? throw new FileNotFoundException($"The checkpoint has no {TokenizerFile}: '{Path.Combine(dir, TokenizerFile)}' does not exist.", Path.Combine(dir, TokenizerFile));

        var files = new List<SafetensorsFile>();
        var tensors = new Dictionary<string, (SafetensorsFile, SafetensorsTensorInfo)>(StringComparer.Ordinal);
        try
        {
            if (Optional(SingleWeightsFile) is { } single)
            {
                var f = SafetensorsFile.Open(single);
                files.Add(f);
                foreach (var t in f.Tensors) tensors[t.Name] = (f, t);
            }
            else if (Optional(IndexFile) is { } index)
                OpenShards(dir, index, files, tensors);
            else if (Optional("pytorch_model.bin") is not null || Optional("pytorch_model.bin.index.json") is not null)
                throw new NotSupportedException($"'{dir}' holds PyTorch pickle weights (pytorch_model.bin); only safetensors checkpoints can be converted.");
            else
                throw new FileNotFoundException($"The checkpoint has no weights: neither '{Path.Combine(dir, SingleWeightsFile)}' nor '{Path.Combine(dir, IndexFile)}' exists.", Path.Combine(dir, SingleWeightsFile));
        }
        catch
        {
            foreach (var f in files) f.Dispose();
            throw;
        }
        return new HfCheckpoint(dir, config, tokenizer, Optional(TokenizerConfigFile), generation, files, tensors);
    }

    private static void OpenShards(string dir, string indexPath, List<SafetensorsFile> files,
        Dictionary<string, (SafetensorsFile, SafetensorsTensorInfo)> tensors)
    {
        var weightMap = ReadWeightMap(indexPath);
        var byShard = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        foreach (var (tensor, shard) in weightMap)
        {
            if (!byShard.TryGetValue(shard, out var f))
            {
                string path = Path.Combine(dir, shard);
                if (!File.Exists(path))
                    throw new FileNotFoundException($"Shard '{path}' listed in '{indexPath}' (for tensor '{tensor}') does not exist.", path);
                f = SafetensorsFile.Open(path);
                files.Add(f);
                byShard[shard] = f;
            }
            var info = f.Find(tensor)
                ?? throw new InvalidDataException($"'{indexPath}' puts tensor '{tensor}' in '{f.Path}', which does not hold it.");
            tensors[tensor] = (f, info);
        }
    }

    private static List<(string Tensor, string Shard)> ReadWeightMap(string indexPath)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(indexPath));
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"'{indexPath}' has no \"weight_map\" object.");
            var result = new List<(string, string)>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var p in map.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.String)
                    throw new InvalidDataException($"'{indexPath}': weight_map entry '{p.Name}' is not a file name.");
                string shard = p.Value.GetString()!;
                if (shard.Length == 0 || shard != Path.GetFileName(shard) || shard is "." or ".." || shard.Contains('\\') || shard.Contains('/'))
                    throw new InvalidDataException($"'{indexPath}': weight_map entry '{p.Name}' names '{shard}', which is not a plain file name in the checkpoint folder.");
                if (!seen.Add(p.Name))
                    throw new InvalidDataException($"'{indexPath}': tensor '{p.Name}' appears twice in weight_map.");
                result.Add((p.Name, shard));
            }
            if (result.Count == 0) throw new InvalidDataException($"'{indexPath}': weight_map is empty.");
            return result;
        }
        catch (JsonException e) { throw new InvalidDataException($"'{indexPath}' is not valid JSON: {e.Message}", e); }
    }

    public bool Contains(string hfName) => _tensors.ContainsKey(hfName);

    /// <summary>The file holding a tensor and its header entry; throws <see cref="KeyNotFoundException"/> naming it when absent.</summary>
    public (SafetensorsFile File, SafetensorsTensorInfo Info) Tensor(string hfName) =>
        _tensors.TryGetValue(hfName, out var t) ? t
            : throw new KeyNotFoundException($"The checkpoint '{Directory}' has no tensor '{hfName}'.");

    public void Dispose()
    {
        foreach (var f in _files) f.Dispose();
    }
}
