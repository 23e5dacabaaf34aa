using System.Text.Json;
using System.Text.Json.Nodes;

namespace TiDAR.Tests.Convert;

/// <summary>What to put in a tiny Hugging Face checkpoint folder.</summary>
public sealed record TinySpec
{
    public string Architecture { get; init; } = "LlamaForCausalLM";
    public bool Tied { get; init; }
    /// <summary>Write lm_head.weight even when tied (the converter must ignore it).</summary>
    public bool LmHeadWhenTied { get; init; }
    public string DType { get; init; } = "F32";
    /// <summary>0: one model.safetensors; n: n shards listed by model.safetensors.index.json.</summary>
    public int Shards { get; init; }
    public int Vocab { get; init; } = 64;
    public int Hidden { get; init; } = 64;
    public int Layers { get; init; } = 2;
    public int Heads { get; init; } = 4;
    public int KvHeads { get; init; } = 2;
    /// <summary>Written as head_dim when set (Qwen3 decouples it from hidden / heads).</summary>
    public int? HeadDim { get; init; }
    /// <summary>80: ffn_down rows (80 elements) are not whole q8_0 blocks, which exercises the f16 fallback.</summary>
    public int Ffn { get; init; } = 80;
    public bool TokenizerConfig { get; init; } = true;
    /// <summary>Llama / Qwen3 with attention_bias: true and q/k/v biases (Qwen2 always has them).</summary>
    public bool AttentionBias { get; init; }
    public int[]? GenerationEos { get; init; }
    public int Seed { get; init; } = 1;
    /// <summary>Edits config.json before it is written.</summary>
    public Action<JsonObject>? EditConfig { get; init; }
    /// <summary>Edits the tensor list before it is written.</summary>
    public Func<List<StTensor>, List<StTensor>>? EditTensors { get; init; }

    public static TinySpec For(string arch) => arch switch
    {
        "llama" => new TinySpec { Architecture = "LlamaForCausalLM", DType = "BF16" },
        "qwen2" => new TinySpec { Architecture = "Qwen2ForCausalLM", DType = "F32", Tied = true, LmHeadWhenTied = true },
        "qwen3" => new TinySpec { Architecture = "Qwen3ForCausalLM", DType = "F16", HeadDim = 24 },
        _ => throw new ArgumentException(arch),
    };
}

/// <summary>
/// Writes a small random checkpoint in Hugging Face layout (config.json, safetensors, a tiny byte-level BPE
/// tokenizer.json with added special tokens) and remembers every tensor's values as stored.
/// </summary>
public sealed class TinyCheckpoint
{
    public string Dir { get; }
    public TinySpec Spec { get; }
    public int HeadDim => Spec.HeadDim ?? Spec.Hidden / Spec.Heads;
    /// <summary>HF name -> (PyTorch shape, values as the checkpoint stores them, decoded to fp32).</summary>
    public Dictionary<string, (long[] Shape, float[] Values)> Tensors { get; } = new();

    public const int EndOfText = 7, ImStart = 8, ImEnd = 9, Mask = 10, ConfigBos = 7, ConfigEos = 7;

    private TinyCheckpoint(string dir, TinySpec spec) { Dir = dir; Spec = spec; }

    public static TinyCheckpoint Write(string dir, TinySpec spec)
    {
        Directory.CreateDirectory(dir);
        var c = new TinyCheckpoint(dir, spec);
        c.WriteConfig();
        c.WriteTokenizer();
        c.WriteWeights();
        return c;
    }

    private bool IsQwen2 => Spec.Architecture == "Qwen2ForCausalLM";
    private bool IsQwen3 => Spec.Architecture == "Qwen3ForCausalLM";

    private void WriteConfig()
    {
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray(Spec.Architecture),
            ["model_type"] = Spec.Architecture.Replace("ForCausalLM", "").ToLowerInvariant(),
            ["hidden_size"] = Spec.Hidden,
            ["num_hidden_layers"] = Spec.Layers,
            ["num_attention_heads"] = Spec.Heads,
            ["num_key_value_heads"] = Spec.KvHeads,
            ["intermediate_size"] = Spec.Ffn,
            ["vocab_size"] = Spec.Vocab,
            ["max_position_embeddings"] = 128,
            ["rms_norm_eps"] = IsQwen2 || IsQwen3 ? 1e-6 : 1e-5,
            ["rope_theta"] = IsQwen2 || IsQwen3 ? 1000000.0 : 10000.0,
            ["tie_word_embeddings"] = Spec.Tied,
            ["hidden_act"] = "silu",
            ["bos_token_id"] = ConfigBos,
            ["eos_token_id"] = ConfigEos,
            ["torch_dtype"] = "float32",
            ["rope_scaling"] = null,
        };
        if (Spec.HeadDim is int hd) config["head_dim"] = hd;
        if (Spec.AttentionBias) config["attention_bias"] = true;
        Spec.EditConfig?.Invoke(config);
        File.WriteAllText(Path.Combine(Dir, "config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        if (Spec.GenerationEos is { } eos)
            File.WriteAllText(Path.Combine(Dir, "generation_config.json"),
                new JsonObject { ["eos_token_id"] = new JsonArray(eos.Select(e => (JsonNode)e).ToArray()) }.ToJsonString());
    }

    /// <summary>Byte-level BPE: 7 vocab tokens, 3 merges, 4 added special tokens (ids 7..10).</summary>
    public static readonly string[] VocabTokens = ["a", "b", "c", "\u0120", "ab", "abc", "\u0120a"];
    public static readonly string[] SpecialTokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|mask|>"];

    private void WriteTokenizer()
    {
        var vocab = new JsonObject();
        for (int i = 0; i < VocabTokens.Length; i++) vocab[VocabTokens[i]] = i;
        var added = new JsonArray();
        for (int i = 0; i < SpecialTokens.Length; i++)
            added.Add(new JsonObject
            {
                ["id"] = VocabTokens.Length + i, ["content"] = SpecialTokens[i], ["single_word"] = false,
                ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
            });
        var tokenizer = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = added,
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true },
            ["post_processor"] = null,
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["vocab"] = vocab,
                ["merges"] = new JsonArray("a b", "ab c", "\u0120 a"),
            },
        };
        File.WriteAllText(Path.Combine(Dir, "tokenizer.json"), tokenizer.ToJsonString());
        if (Spec.TokenizerConfig)
            File.WriteAllText(Path.Combine(Dir, "tokenizer_config.json"), new JsonObject
            {
                ["bos_token"] = null,
                ["eos_token"] = "<|im_end|>",
                ["pad_token"] = "<|endoftext|>",
                ["add_bos_token"] = false,
                ["chat_template"] = "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}",
            }.ToJsonString());
    }

    private void WriteWeights()
    {
        var rng = new Random(Spec.Seed);
        var list = new List<StTensor>();
        void Add(string name, long[] shape, float scale, bool norm = false)
        {
            long n = shape.Aggregate(1L, (a, b) => a * b);
            var values = new float[n];
            for (int i = 0; i < n; i++)
                values[i] = norm ? 1f + (float)(rng.NextDouble() - 0.5) * 0.2f : (float)(rng.NextDouble() * 2 - 1) * scale;
            list.Add(SafetensorsTestWriter.Tensor(name, Spec.DType, shape, values));
        }
        int d = Spec.Hidden, q = Spec.Heads * HeadDim, kv = Spec.KvHeads * HeadDim, f = Spec.Ffn, v = Spec.Vocab;
        float s = 1.7f / MathF.Sqrt(d);
        Add("model.embed_tokens.weight", [v, d], 1f);
        for (int l = 0; l < Spec.Layers; l++)
        {
            string p = $"model.layers.{l}.";
            Add(p + "input_layernorm.weight", [d], 0, norm: true);
            Add(p + "self_attn.q_proj.weight", [q, d], s);
            Add(p + "self_attn.k_proj.weight", [kv, d], s);
            Add(p + "self_attn.v_proj.weight", [kv, d], s);
            if (IsQwen2 || Spec.AttentionBias)
            {
                Add(p + "self_attn.q_proj.bias", [q], 0.3f);
                Add(p + "self_attn.k_proj.bias", [kv], 0.3f);
                Add(p + "self_attn.v_proj.bias", [kv], 0.3f);
            }
            if (IsQwen3)
            {
                Add(p + "self_attn.q_norm.weight", [HeadDim], 0, norm: true);
                Add(p + "self_attn.k_norm.weight", [HeadDim], 0, norm: true);
            }
            Add(p + "self_attn.o_proj.weight", [d, q], 1.7f / MathF.Sqrt(q));
            Add(p + "self_attn.rotary_emb.inv_freq", [HeadDim / 2], 1f);
            Add(p + "post_attention_layernorm.weight", [d], 0, norm: true);
            Add(p + "mlp.gate_proj.weight", [f, d], s);
            Add(p + "mlp.up_proj.weight", [f, d], s);
            Add(p + "mlp.down_proj.weight", [d, f], 1.7f / MathF.Sqrt(f));
        }
        Add("model.norm.weight", [d], 0, norm: true);
        if (!Spec.Tied || Spec.LmHeadWhenTied) Add("lm_head.weight", [v, d], s);
        if (Spec.EditTensors is { } edit) list = edit(list);

        foreach (var t in list)
            if (t.DType is "F32" or "F16" or "BF16")
                Tensors[t.Name] = (t.Shape, Decode(t));

        if (Spec.Shards <= 0)
        {
            SafetensorsTestWriter.Write(Path.Combine(Dir, "model.safetensors"), list, new Dictionary<string, string> { ["format"] = "pt" });
            return;
        }
        var map = new JsonObject();
        int per = (list.Count + Spec.Shards - 1) / Spec.Shards;
        for (int sh = 0; sh < Spec.Shards; sh++)
        {
            string file = $"model-{sh + 1:00000}-of-{Spec.Shards:00000}.safetensors";
            var part = list.Skip(sh * per).Take(per).ToList();
            SafetensorsTestWriter.Write(Path.Combine(Dir, file), part, new Dictionary<string, string> { ["format"] = "pt" });
            foreach (var t in part) map[t.Name] = file;
        }
        File.WriteAllText(Path.Combine(Dir, "model.safetensors.index.json"), new JsonObject
        {
            ["metadata"] = new JsonObject { ["total_size"] = list.Sum(t => (long)t.Data.Length) },
            ["weight_map"] = map,
        }.ToJsonString());
    }

    private static float[] Decode(StTensor t)
    {
        int size = t.DType == "F32" ? 4 : 2;
        var values = new float[t.Data.Length / size];
        for (int i = 0; i < values.Length; i++)
            values[i] = t.DType switch
            {
                "F32" => BitConverter.ToSingle(t.Data, i * 4),
                "F16" => (float)BitConverter.ToHalf(t.Data, i * 2),
                _ => BitConverter.Int32BitsToSingle(BitConverter.ToUInt16(t.Data, i * 2) << 16),
            };
        return values;
    }
}
