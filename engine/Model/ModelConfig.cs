using TiDAR.Engine.Kernels;

namespace TiDAR.Engine.Model;

/// <summary>Decoder families the engine runs; all are pre-norm RMSNorm + GQA + SwiGLU transformers.</summary>
public enum Architecture { Llama, Qwen2, Qwen3 }

/// <summary>
/// Hyperparameters of a decoder, read from GGUF metadata under llama.cpp's keys
/// ("{arch}.embedding_length", ...) and our own "tidar." keys.
/// </summary>
public sealed record ModelConfig
{
    public required Architecture Architecture { get; init; }
    public required int VocabSize { get; init; }
    public required int Dim { get; init; }
    public required int Layers { get; init; }
    public required int Heads { get; init; }
    public required int KvHeads { get; init; }
    public required int HeadDim { get; init; }
    public required int FfnDim { get; init; }
    public required float RmsEps { get; init; }
    public required float RopeBase { get; init; }
    public int RopeDims { get; init; }
    public required int ContextLength { get; init; }
    /// <summary>Output head shares the token embedding (no output.weight tensor).</summary>
    public bool TiedEmbeddings { get; init; }
    /// <summary>TiDAR: the token id that fills mask slots, and the trained block size; null for plain AR models.</summary>
    public int? MaskTokenId { get; init; }
    public int? BlockSize { get; init; }

    /// <summary>Qwen2 has biases on q, k and v.</summary>
    public bool QkvBias => Architecture == Architecture.Qwen2;
    /// <summary>Qwen3 RMS-normalises each head of q and k before RoPE.</summary>
    public bool QkNorm => Architecture == Architecture.Qwen3;
    /// <summary>llama.cpp's llama files carry Q/K rows permuted for the "norm" pairing; Qwen uses "neox".</summary>
    public RopeMode RopeMode => RopeModeOverride ?? (Architecture == Architecture.Llama ? RopeMode.Norm : RopeMode.Neox);
    /// <summary>For weights in Hugging Face order (un-permuted llama Q/K), which pair dims the "neox" way.</summary>
    public RopeMode? RopeModeOverride { get; init; }
    public int QDim => Heads * HeadDim;
    public int KvDim => KvHeads * HeadDim;
    public int RotaryDims => RopeDims > 0 ? RopeDims : HeadDim;

    public static string GgufName(Architecture a) => a switch
    {
        Architecture.Llama => "llama",
        Architecture.Qwen2 => "qwen2",
        Architecture.Qwen3 => "qwen3",
        _ => throw new ArgumentOutOfRangeException(nameof(a)),
    };

    public static Architecture ParseArchitecture(string name) => name switch
    {
        "llama" => Architecture.Llama,
        "qwen2" => Architecture.Qwen2,
        "qwen3" => Architecture.Qwen3,
        _ => throw new NotSupportedException($"Unsupported model architecture '{name}'; supported: llama, qwen2, qwen3."),
    };

    /// <summary>Checks the numbers hang together; throws naming the first that does not.</summary>
    public void Validate()
    {
        void Need(bool ok, string what) { if (!ok) throw new InvalidDataException($"Invalid model hyperparameters: {what}."); }
        Need(VocabSize > 0, $"vocabulary size {VocabSize}");
        Need(Dim > 0 && Layers > 0 && FfnDim > 0, $"dim {Dim}, layers {Layers}, ffn {FfnDim}");
        Need(Heads > 0 && KvHeads > 0 && Heads % KvHeads == 0, $"{Heads} heads are not a multiple of {KvHeads} KV heads");
        Need(HeadDim > 0 && HeadDim % 2 == 0 && HeadDim <= 512, $"head dim {HeadDim}");
        Need(RotaryDims > 0 && RotaryDims <= HeadDim && RotaryDims % 2 == 0, $"rotary dims {RotaryDims}");
        Need(RmsEps > 0 && RmsEps < 1, $"rms epsilon {RmsEps}");
        Need(RopeBase > 1, $"rope base {RopeBase}");
        Need(ContextLength > 0, $"context length {ContextLength}");
        Need(MaskTokenId is null || (MaskTokenId >= 0 && MaskTokenId < VocabSize), $"mask token {MaskTokenId} outside the vocabulary");
        Need(BlockSize is null || BlockSize >= 1, $"block size {BlockSize}");
    }

    /// <summary>Reads the config from GGUF metadata; <paramref name="vocabFallback"/> is the token count when no vocab_size key exists.</summary>
    public static ModelConfig FromGgufMetadata(IReadOnlyDictionary<string, object> meta, int vocabFallback)
    {
        string archName = meta.TryGetValue("general.architecture", out var a) && a is string s ? s
            : throw new InvalidDataException("GGUF metadata has no general.architecture.");
        var arch = ParseArchitecture(archName);
        long Int(string key, long? fallback = null)
        {
            if (meta.TryGetValue($"{archName}.{key}", out var v) || meta.TryGetValue(key, out v))
                return v switch
                {
                    uint u => u, int i => i, ulong ul => checked((long)ul), long l => l, ushort us => us, short sh => sh, byte b => b, sbyte sb => sb,
                    _ => throw new InvalidDataException($"GGUF key {archName}.{key} should be an integer, found {v.GetType().Name}."),
                };
            return fallback ?? throw new InvalidDataException($"GGUF metadata lacks {archName}.{key}.");
        }
        float Float(string key, float? fallback = null)
        {
            if (meta.TryGetValue($"{archName}.{key}", out var v))
                return v switch
                {
                    float f => f, double d => (float)d, uint u => u, int i => i,
                    _ => throw new InvalidDataException($"GGUF key {archName}.{key} should be a number, found {v.GetType().Name}."),
                };
            return fallback ?? throw new InvalidDataException($"GGUF metadata lacks {archName}.{key}.");
        }
        int dim = (int)Int("embedding_length");
        int heads = (int)Int("attention.head_count");
        int? tidarInt(string key) => meta.TryGetValue(key, out var v) ? Convert.ToInt32(v) : null;
        var config = new ModelConfig
        {
            Architecture = arch,
            VocabSize = (int)Int("vocab_size", vocabFallback),
            Dim = dim,
            Layers = (int)Int("block_count"),
            Heads = heads,
            KvHeads = (int)Int("attention.head_count_kv", heads),
            HeadDim = (int)Int("attention.key_length", heads > 0 ? dim / heads : 0),
            FfnDim = (int)Int("feed_forward_length"),
            RmsEps = Float("attention.layer_norm_rms_epsilon", 1e-6f),
            RopeBase = Float("rope.freq_base", 10000f),
            RopeDims = (int)Int("rope.dimension_count", 0),
            ContextLength = (int)Int("context_length", 2048),
            MaskTokenId = tidarInt("tidar.mask_token_id"),
            BlockSize = tidarInt("tidar.block_size"),
        };
        config.Validate();
        return config;
    }
}
