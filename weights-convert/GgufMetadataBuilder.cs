using TiDAR.Engine.Model;
using TiDAR.Engine.Tokenizer;

namespace TiDAR.WeightsConvert;

/// <summary>The GGUF metadata of a converted model, with llama.cpp's keys and value types (uint32 counts, float32
/// epsilon and RoPE base), the tokenizer's tokenizer.* keys, and our tidar.* keys.</summary>
public static class GgufMetadataBuilder
{
    public const string KeyMaskTokenId = "tidar.mask_token_id";
    public const string KeyBlockSize = "tidar.block_size";

    public static IReadOnlyList<KeyValuePair<string, object>> Build(ModelConfig c, string name, OutputType type, TokenizerData tokenizer)
    {
        string a = ModelConfig.GgufName(c.Architecture);
        var md = new List<KeyValuePair<string, object>>();
        void Set(string key, object value) => md.Add(new(key, value));

        Set("general.architecture", a);
        Set("general.name", name);
        Set("general.file_type", type.LlamaFileType());
        if (type == OutputType.Q8_0) Set("general.quantization_version", 2u);

        Set($"{a}.vocab_size", (uint)c.VocabSize);
        Set($"{a}.context_length", (uint)c.ContextLength);
        Set($"{a}.embedding_length", (uint)c.Dim);
        Set($"{a}.block_count", (uint)c.Layers);
        Set($"{a}.feed_forward_length", (uint)c.FfnDim);
        Set($"{a}.attention.head_count", (uint)c.Heads);
        Set($"{a}.attention.head_count_kv", (uint)c.KvHeads);
        Set($"{a}.attention.key_length", (uint)c.HeadDim);
        Set($"{a}.attention.value_length", (uint)c.HeadDim);
        Set($"{a}.attention.layer_norm_rms_epsilon", c.RmsEps);
        Set($"{a}.rope.freq_base", c.RopeBase);
        Set($"{a}.rope.dimension_count", (uint)c.RotaryDims);

        if (c.MaskTokenId is int mask) Set(KeyMaskTokenId, (uint)mask);
        if (c.BlockSize is int block) Set(KeyBlockSize, (uint)block);

        foreach (var kv in tokenizer.ToGgufMetadata()) Set(kv.Key, kv.Value);
        return md;
    }

    /// <summary>The checkpoint's tokenizer made to fit the model: padded with llama.cpp's [PAD{id}] entries to the
    /// embedding's row count, BOS/EOS taken from config.json / generation_config.json where the tokenizer has none.</summary>
    public static TokenizerData FitTokenizer(TokenizerData tokenizer, HfConfig config, string tokenizerPath)
    {
        if (tokenizer.VocabSize > config.VocabSize)
            throw new InvalidDataException($"'{tokenizerPath}' has {tokenizer.VocabSize} tokens, more than the model's vocab_size {config.VocabSize}.");
        var t = tokenizer.WithVocabSize(config.VocabSize);
        int? bos = t.BosId ?? config.BosTokenId, eos = t.EosId ?? config.EosTokenId;
        if (bos != t.BosId || eos != t.EosId) t = t with { BosId = bos, EosId = eos };
        try { t.Validate(); }
        catch (InvalidDataException e) { throw new InvalidDataException($"Tokenizer '{tokenizerPath}' with the config's special ids: {e.Message}", e); }
        return t;
    }
}
