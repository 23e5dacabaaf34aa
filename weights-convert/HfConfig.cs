using System.Text.Json;
using TiDAR.Engine.Model;

namespace TiDAR.WeightsConvert;

/// <summary>
/// The hyperparameters of a Hugging Face decoder checkpoint, from its config.json (and generation_config.json for
/// the end-of-sequence id). Defaults follow transformers' LlamaConfig / Qwen2Config / Qwen3Config.
/// </summary>
public sealed record HfConfig
{
    public static readonly IReadOnlyDictionary<string, Architecture> SupportedArchitectures = new Dictionary<string, Architecture>
    {
        ["LlamaForCausalLM"] = Architecture.Llama,
        ["Qwen2ForCausalLM"] = Architecture.Qwen2,
        ["Qwen3ForCausalLM"] = Architecture.Qwen3,
    };

    /// <summary>The transformers class name, architectures[0].</summary>
    public required string HfArchitecture { get; init; }
    public required Architecture Architecture { get; init; }
    public required int HiddenSize { get; init; }
    public required int NumLayers { get; init; }
    public required int NumHeads { get; init; }
    public required int NumKvHeads { get; init; }
    public required int HeadDim { get; init; }
    public required int IntermediateSize { get; init; }
    public required int VocabSize { get; init; }
    public required int MaxPositionEmbeddings { get; init; }
    public required double RmsNormEps { get; init; }
    public required double RopeTheta { get; init; }
    public bool TieWordEmbeddings { get; init; }
    /// <summary>q/k/v projections carry biases: always for Qwen2, when attention_bias is set for Llama and Qwen3.</summary>
    public bool AttentionBias { get; init; }
    public int? BosTokenId { get; init; }
    public int? EosTokenId { get; init; }
    public int? MaskTokenId { get; init; }
    public int? BlockSize { get; init; }
    /// <summary>_name_or_path, when the config has one.</summary>
    public string? NameOrPath { get; init; }

    /// <summary>Reads config.json and, when given and present, generation_config.json (whose eos_token_id wins).</summary>
    public static HfConfig Load(string configPath, string? generationConfigPath = null)
    {
        string full = Path.GetFullPath(configPath);
        if (!File.Exists(full)) throw new FileNotFoundException($"The checkpoint has no config.json: '{full}' does not exist.", full);
        string? gen = generationConfigPath is not null && File.Exists(generationConfigPath) ? File.ReadAllText(generationConfigPath) : null;
        return Parse(File.ReadAllText(full), full, gen, generationConfigPath);
    }

    public static HfConfig Parse(string configJson, string configLabel = "config.json", string? generationConfigJson = null, string? generationLabel = "generation_config.json")
    {
        using var doc = ParseJson(configJson, configLabel);
        var root = doc.RootElement;
        var j = new JsonReader(root, configLabel);

        if (!root.TryGetProperty("architectures", out var archs) || archs.ValueKind != JsonValueKind.Array || archs.GetArrayLength() == 0 || archs[0].ValueKind != JsonValueKind.String)
            throw new InvalidDataException($"'{configLabel}' has no \"architectures\" list naming the model class.");
        string hfArch = archs[0].GetString()!;
        if (!SupportedArchitectures.TryGetValue(hfArch, out var arch))
            throw new NotSupportedException($"'{configLabel}': architecture '{hfArch}' is not supported; supported: {string.Join(", ", SupportedArchitectures.Keys)}.");

        string? act = j.String("hidden_act");
        if (act is not null && act != "silu")
            throw new NotSupportedException($"'{configLabel}': hidden_act '{act}' is not supported; only silu (SwiGLU) is.");
        if (root.TryGetProperty("rope_scaling", out var rs) && rs.ValueKind == JsonValueKind.Object)
        {
            string? type = rs.TryGetProperty("rope_type", out var rt) && rt.ValueKind == JsonValueKind.String ? rt.GetString()
                : rs.TryGetProperty("type", out var t2) && t2.ValueKind == JsonValueKind.String ? t2.GetString() : null;
            if (type is not (null or "default"))
                throw new NotSupportedException($"'{configLabel}': rope_scaling of type '{type}' is not supported.");
        }

        int hidden = j.RequiredInt("hidden_size");
        int heads = j.RequiredInt("num_attention_heads");
        if (heads <= 0) throw new InvalidDataException($"'{configLabel}': num_attention_heads is {heads}.");
        int headDim = j.Int("head_dim") ?? hidden / heads;
        int? eos = j.TokenId("eos_token_id");
        if (generationConfigJson is not null)
        {
            using var g = ParseJson(generationConfigJson, generationLabel ?? "generation_config.json");
            var genEos = new JsonReader(g.RootElement, generationLabel ?? "generation_config.json").TokenId("eos_token_id");
            if (genEos is not null) eos = genEos;
        }

        var config = new HfConfig
        {
            HfArchitecture = hfArch,
            Architecture = arch,
            HiddenSize = hidden,
            NumLayers = j.RequiredInt("num_hidden_layers"),
            NumHeads = heads,
            NumKvHeads = j.Int("num_key_value_heads") ?? heads,
            HeadDim = headDim,
            IntermediateSize = j.RequiredInt("intermediate_size"),
            VocabSize = j.RequiredInt("vocab_size"),
            MaxPositionEmbeddings = j.Int("max_position_embeddings") ?? 2048,
            RmsNormEps = j.Double("rms_norm_eps") ?? 1e-6,
            RopeTheta = j.Double("rope_theta") ?? 10000.0,
            TieWordEmbeddings = j.Bool("tie_word_embeddings") ?? false,
            AttentionBias = arch == Architecture.Qwen2 || (j.Bool("attention_bias") ?? false),
            BosTokenId = j.TokenId("bos_token_id"),
            EosTokenId = eos,
            MaskTokenId = j.Int("mask_token_id") ?? j.Int("tidar_mask_token_id"),
            BlockSize = j.Int("block_size") ?? j.Int("tidar_block_size"),
            NameOrPath = j.String("_name_or_path"),
        };
        try { config.ToModelConfig().Validate(); }
        catch (InvalidDataException e) { throw new InvalidDataException($"'{configLabel}': {e.Message}", e); }
        return config;
    }

    /// <summary>The engine's view of these hyperparameters (llama files: Q/K permuted, "norm" RoPE; Qwen: "neox").</summary>
    public ModelConfig ToModelConfig(int? maskTokenId = null, int? blockSize = null) => new()
    {
        Architecture = Architecture,
        VocabSize = VocabSize,
        Dim = HiddenSize,
        Layers = NumLayers,
        Heads = NumHeads,
        KvHeads = NumKvHeads,
        HeadDim = HeadDim,
        FfnDim = IntermediateSize,
        RmsEps = (float)RmsNormEps,
        RopeBase = (float)RopeTheta,
        RopeDims = HeadDim,
        ContextLength = MaxPositionEmbeddings,
        TiedEmbeddings = TieWordEmbeddings,
        MaskTokenId = maskTokenId ?? MaskTokenId,
        BlockSize = blockSize ?? BlockSize,
    };

    private static JsonDocument ParseJson(string json, string label)
    {
        try
        {
            var doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                doc.Dispose();
                throw new InvalidDataException($"'{label}' is not a JSON object.");
            }
            return doc;
        }
        catch (JsonException e) { throw new InvalidDataException($"'{label}' is not valid JSON: {e.Message}", e); }
    }

    /// <summary>Typed, null-tolerant access to config keys with errors that name the file and key.</summary>
    private readonly struct JsonReader(JsonElement root, string label)
    {
        private JsonElement? Get(string key) =>
            root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

        public int RequiredInt(string key) => Int(key) ?? throw new InvalidDataException($"'{label}' lacks \"{key}\".");

        public int? Int(string key)
        {
            if (Get(key) is not { } v) return null;
            if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i)) return i;
            throw new InvalidDataException($"'{label}': \"{key}\" should be a 32-bit integer, found {v.GetRawText()}.");
        }

        public double? Double(string key)
        {
            if (Get(key) is not { } v) return null;
            if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d) && double.IsFinite(d)) return d;
            throw new InvalidDataException($"'{label}': \"{key}\" should be a number, found {v.GetRawText()}.");
        }

        public bool? Bool(string key)
        {
            if (Get(key) is not { } v) return null;
            if (v.ValueKind is JsonValueKind.True or JsonValueKind.False) return v.GetBoolean();
            throw new InvalidDataException($"'{label}': \"{key}\" should be true or false, found {v.GetRawText()}.");
        }

        public string? String(string key)
        {
            if (Get(key) is not { } v) return null;
            if (v.ValueKind == JsonValueKind.String) return v.GetString();
            throw new InvalidDataException($"'{label}': \"{key}\" should be a string, found {v.GetRawText()}.");
        }

        /// <summary>A token id, or the first of a list of them (generation_config.json often lists several eos ids).</summary>
        public int? TokenId(string key)
        {
            if (Get(key) is not { } v) return null;
            if (v.ValueKind == JsonValueKind.Array)
            {
                if (v.GetArrayLength() == 0) return null;
                v = v[0];
            }
            if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) && i >= 0) return i;
            throw new InvalidDataException($"'{label}': \"{key}\" should be a token id or a list of them, found {v.GetRawText()}.");
        }
    }
}
