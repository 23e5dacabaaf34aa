using TiDAR.Engine.Gguf;
using TiDAR.Engine.Model;
using TiDAR.Engine.Tokenizer;
using TiDAR.WeightsConvert;

namespace TiDAR.Tests.Convert;

public class GgufConverterTests
{
    /// <summary>The tests' own HF -> GGUF name table.</summary>
    internal static string? GgufName(string hf)
    {
        if (hf == "model.embed_tokens.weight") return "token_embd.weight";
        if (hf == "model.norm.weight") return "output_norm.weight";
        if (hf == "lm_head.weight") return "output.weight";
        var parts = hf.Split('.', 4);
        if (parts.Length < 4 || parts[0] != "model" || parts[1] != "layers") return null;
        string? suffix = parts[3] switch
        {
            "input_layernorm.weight" => "attn_norm.weight",
            "self_attn.q_proj.weight" => "attn_q.weight", "self_attn.k_proj.weight" => "attn_k.weight", "self_attn.v_proj.weight" => "attn_v.weight",
            "self_attn.q_proj.bias" => "attn_q.bias", "self_attn.k_proj.bias" => "attn_k.bias", "self_attn.v_proj.bias" => "attn_v.bias",
            "self_attn.o_proj.weight" => "attn_output.weight",
            "self_attn.q_norm.weight" => "attn_q_norm.weight", "self_attn.k_norm.weight" => "attn_k_norm.weight",
            "post_attention_layernorm.weight" => "ffn_norm.weight",
            "mlp.gate_proj.weight" => "ffn_gate.weight", "mlp.up_proj.weight" => "ffn_up.weight", "mlp.down_proj.weight" => "ffn_down.weight",
            _ => null,
        };
        return suffix is null ? null : $"blk.{parts[2]}.{suffix}";
    }

    public static IEnumerable<object[]> ArchAndType() =>
        from a in new[] { "llama", "qwen2", "qwen3" }
        from t in new[] { "f32", "f16", "bf16", "q8_0" }
        select new object[] { a, t };

    [Theory]
    [MemberData(nameof(ArchAndType))]
    public void ConvertsEveryTensorAndKey(string arch, string typeName)
    {
        using var dir = new TempDir();
        var ckpt = TinyCheckpoint.Write(dir.Sub("hf"), TinySpec.For(arch) with { Seed = arch.Length * 7 + typeName.Length });
        var type = OutputTypes.Parse(typeName);
        string output = dir.File("out.gguf");
        var progress = new List<ConvertProgress>();
        var result = GgufConverter.Convert(ckpt.Dir, output, new ConvertOptions { OutputType = type }, new InlineProgress(progress.Add));

        using var f = GgufFile.Open(output);
        CheckMetadata(f, ckpt, arch, type);
        CheckTensors(f, ckpt, arch, type);

        Assert.Equal(f.Tensors.Count, result.TensorCount);
        Assert.Equal(new FileInfo(output).Length, result.FileBytes);
        Assert.Equal(type == OutputType.Q8_0 ? ckpt.Spec.Layers : 0, result.Warnings.Count); // ffn_down fallbacks (q8_0)
        if (type == OutputType.Q8_0) Assert.Contains(result.Warnings, w => w.Contains("ffn_down") && w.Contains("f16"));

        var bytes = progress.Where(p => p.Message is null).Select(p => p.BytesDone).ToList();
        Assert.True(bytes.Zip(bytes.Skip(1)).All(p => p.First <= p.Second), "progress goes backwards");
        Assert.Equal(result.TensorBytes, progress[^1].BytesDone);
        Assert.Equal(result.TensorBytes, progress[^1].BytesTotal);
        Assert.Equal(progress[^1].TensorCount, progress[^1].TensorIndex);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    internal static void CheckMetadata(GgufFile f, TinyCheckpoint ckpt, string arch, OutputType type)
    {
        var s = ckpt.Spec;
        Assert.Equal(arch, f.Get<string>("general.architecture"));
        Assert.Equal("hf", f.Get<string>("general.name"));
        Assert.Equal(type switch { OutputType.F32 => 0u, OutputType.F16 => 1u, OutputType.Q8_0 => 7u, _ => 32u }, f.Get<uint>("general.file_type"));
        uint U(string k) => Assert.IsType<uint>(f.Metadata[$"{arch}.{k}"]);
        float F(string k) => Assert.IsType<float>(f.Metadata[$"{arch}.{k}"]);
        Assert.Equal(128u, U("context_length"));
        Assert.Equal((uint)s.Hidden, U("embedding_length"));
        Assert.Equal((uint)s.Layers, U("block_count"));
        Assert.Equal((uint)s.Ffn, U("feed_forward_length"));
        Assert.Equal((uint)s.Heads, U("attention.head_count"));
        Assert.Equal((uint)s.KvHeads, U("attention.head_count_kv"));
        Assert.Equal((uint)ckpt.HeadDim, U("attention.key_length"));
        Assert.Equal((uint)ckpt.HeadDim, U("attention.value_length"));
        Assert.Equal((uint)ckpt.HeadDim, U("rope.dimension_count"));
        Assert.Equal((uint)s.Vocab, U("vocab_size"));
        Assert.Equal(arch == "llama" ? 1e-5f : 1e-6f, F("attention.layer_norm_rms_epsilon"));
        Assert.Equal(arch == "llama" ? 10000f : 1000000f, F("rope.freq_base"));
        Assert.False(f.Metadata.ContainsKey("tidar.mask_token_id"));

        // Tokenizer: byte-level BPE padded to the embedding's rows.
        Assert.Equal("gpt2", f.Get<string>("tokenizer.ggml.model"));
        Assert.Equal("gpt2", f.Get<string>("tokenizer.ggml.pre"));
        var tokens = f.Get<string[]>("tokenizer.ggml.tokens");
        Assert.Equal(s.Vocab, tokens.Length);
        Assert.Equal(TinyCheckpoint.VocabTokens.Concat(TinyCheckpoint.SpecialTokens), tokens.Take(11));
        Assert.Equal("[PAD11]", tokens[11]);
        var types = f.Get<int[]>("tokenizer.ggml.token_type");
        Assert.Equal((int)TokenType.Control, types[TinyCheckpoint.ImEnd]);
        Assert.Equal((int)TokenType.Unused, types[^1]);
        Assert.Equal(["a b", "ab c", "\u0120 a"], f.Get<string[]>("tokenizer.ggml.merges"));
        // tokenizer_config.json's eos wins over config.json's.
        Assert.Equal((uint)TinyCheckpoint.ImEnd, f.Get<uint>("tokenizer.ggml.eos_token_id"));
        Assert.Contains("<|im_start|>", f.Get<string>("tokenizer.chat_template"));

        // The engine reads the same hyperparameters back.
        var c = ModelConfig.FromGgufMetadata(f.Metadata, tokens.Length);
        Assert.Equal(ModelConfig.ParseArchitecture(arch), c.Architecture);
        Assert.Equal((s.Vocab, s.Hidden, s.Layers, s.Heads, s.KvHeads, ckpt.HeadDim, s.Ffn, 128),
            (c.VocabSize, c.Dim, c.Layers, c.Heads, c.KvHeads, c.HeadDim, c.FfnDim, c.ContextLength));
        Assert.Null(c.MaskTokenId);
    }

    internal static void CheckTensors(GgufFile f, TinyCheckpoint ckpt, string arch, OutputType type)
    {
        var expectedNames = ckpt.Tensors.Keys.Select(GgufName).OfType<string>()
            .Where(n => !(n == "output.weight" && ckpt.Spec.Tied)).ToHashSet();
        Assert.Equal(expectedNames.OrderBy(n => n), f.Tensors.Select(t => t.Name).OrderBy(n => n));
        Assert.Equal(ckpt.Spec.Tied, f.FindTensor("output.weight") is null);

        foreach (var (hf, (shape, values)) in ckpt.Tensors)
        {
            string? name = GgufName(hf);
            if (name is null || !expectedNames.Contains(name)) continue;
            var t = f.Tensor(name);
            Assert.Equal(shape.Reverse().Select(d => (ulong)d), t.Dimensions);

            var expected = values;
            if (arch == "llama" && (name.Contains(".attn_q.") || name.Contains(".attn_k.")))
                expected = LlamaQkPermutationTests.NumpyPermute(values, name.Contains(".attn_q.") ? ckpt.Spec.Heads : ckpt.Spec.KvHeads, (int)shape[0]);

            GgmlType want = shape.Length == 1 ? GgmlType.F32 : type switch
            {
                OutputType.F32 => GgmlType.F32,
                OutputType.F16 => GgmlType.F16,
                OutputType.BF16 => GgmlType.BF16,
                _ => shape[1] % 32 == 0 ? GgmlType.Q8_0 : GgmlType.F16,
            };
            Assert.True(want == t.Type, $"{name}: {t.Type}, expected {want}");
            var got = f.ReadAsFloat32(t);
            Assert.Equal(expected.Length, got.Length);
            switch (want)
            {
                case GgmlType.F32: Assert.Equal(expected, got); break;
                case GgmlType.F16: Assert.Equal(expected.Select(v => SafetensorsTestWriter.Round(v, "F16")), got); break;
                case GgmlType.BF16: Assert.Equal(expected.Select(v => SafetensorsTestWriter.Round(v, "BF16")), got); break;
                default:
                    for (int b = 0; b < expected.Length; b += 32)
                    {
                        float amax = expected.Skip(b).Take(32).Max(MathF.Abs);
                        float tol = amax / 254f * 1.001f + amax * 1e-3f;
                        for (int i = b; i < b + 32; i++)
                            Assert.True(MathF.Abs(expected[i] - got[i]) <= tol, $"{name}[{i}]: {got[i]} vs {expected[i]} (tol {tol})");
                    }
                    break;
            }
        }
    }

    [Fact]
    public void ShardedCheckpointConvertsToTheSameFileAsOneFile()
    {
        using var dir = new TempDir();
        var single = TinyCheckpoint.Write(dir.Sub("hf"), TinySpec.For("qwen3") with { Seed = 3 });
        var sharded = TinyCheckpoint.Write(dir.Sub("sharded/hf"), TinySpec.For("qwen3") with { Seed = 3, Shards = 4 });
        Assert.True(File.Exists(Path.Combine(sharded.Dir, "model.safetensors.index.json")));
        GgufConverter.Convert(single.Dir, dir.File("a.gguf"), new ConvertOptions { OutputType = OutputType.BF16 });
        GgufConverter.Convert(sharded.Dir, dir.File("b.gguf"), new ConvertOptions { OutputType = OutputType.BF16 });
        Assert.Equal(File.ReadAllBytes(dir.File("a.gguf")), File.ReadAllBytes(dir.File("b.gguf")));
    }

    [Theory]
    [InlineData("llama", "f16")]
    [InlineData("llama", "q8_0")]
    [InlineData("qwen2", "f32")]
    [InlineData("qwen3", "bf16")]
    public void ChunkSizeDoesNotChangeTheOutput(string arch, string type)
    {
        using var dir = new TempDir();
        var ckpt = TinyCheckpoint.Write(dir.Sub("hf"), TinySpec.For(arch));
        var options = new ConvertOptions { OutputType = OutputTypes.Parse(type) };
        GgufConverter.Convert(ckpt.Dir, dir.File("big.gguf"), options);
        GgufConverter.Convert(ckpt.Dir, dir.File("small.gguf"), options with { ChunkElements = 37 });
        GgufConverter.Convert(ckpt.Dir, dir.File("one.gguf"), options with { ChunkElements = 1 });
        var big = File.ReadAllBytes(dir.File("big.gguf"));
        Assert.Equal(big, File.ReadAllBytes(dir.File("small.gguf")));
        Assert.Equal(big, File.ReadAllBytes(dir.File("one.gguf")));
    }

    [Fact]
    public void TiedAndUntiedEmbeddings()
    {
        using var dir = new TempDir();
        foreach (var (arch, tied) in new[] { ("llama", true), ("qwen2", false), ("qwen3", true) })
        {
            var ckpt = TinyCheckpoint.Write(dir.Sub($"{arch}{tied}/hf"), TinySpec.For(arch) with { Tied = tied, LmHeadWhenTied = false });
            string output = dir.File($"{arch}{tied}.gguf");
            GgufConverter.Convert(ckpt.Dir, output, new ConvertOptions { OutputType = OutputType.F32 });
            using var f = GgufFile.Open(output);
            Assert.Equal(tied, f.FindTensor("output.weight") is null);
            CheckTensors(f, ckpt, arch, OutputType.F32);
        }
    }

    [Fact]
    public void TidarKeysFromOptionsOverrideConfig()
    {
        using var dir = new TempDir();
        var ckpt = TinyCheckpoint.Write(dir.Sub("hf"), TinySpec.For("qwen3") with
        {
            EditConfig = c => { c["mask_token_id"] = TinyCheckpoint.Mask; c["block_size"] = 4; },
        });
        GgufConverter.Convert(ckpt.Dir, dir.File("cfg.gguf"));
        using (var f = GgufFile.Open(dir.File("cfg.gguf")))
        {
            Assert.Equal((uint)TinyCheckpoint.Mask, Assert.IsType<uint>(f.Metadata["tidar.mask_token_id"]));
            Assert.Equal(4u, Assert.IsType<uint>(f.Metadata["tidar.block_size"]));
        }
        var r = GgufConverter.Convert(ckpt.Dir, dir.File("opt.gguf"), new ConvertOptions { MaskTokenId = 63, BlockSize = 16, Name = "tiny" });
        Assert.Equal((63, 16), (r.Config.MaskTokenId!.Value, r.Config.BlockSize!.Value));
        using (var f = GgufFile.Open(dir.File("opt.gguf")))
        {
            Assert.Equal(63u, f.Get<uint>("tidar.mask_token_id"));
            Assert.Equal(16u, f.Get<uint>("tidar.block_size"));
            Assert.Equal("tiny", f.Get<string>("general.name"));
            var c = ModelConfig.FromGgufMetadata(f.Metadata, 64);
            Assert.Equal((63, 16), (c.MaskTokenId!.Value, c.BlockSize!.Value));
        }
        Assert.Throws<ArgumentException>(() => GgufConverter.Convert(ckpt.Dir, dir.File("bad.gguf"), new ConvertOptions { MaskTokenId = 64 }));
        Assert.Throws<ArgumentException>(() => GgufConverter.Convert(ckpt.Dir, dir.File("bad.gguf"), new ConvertOptions { BlockSize = 0 }));
        Assert.False(File.Exists(dir.File("bad.gguf")));
    }

    [Fact]
    public void SpecialIdsComeFromConfigWhenTheTokenizerLacksThem()
    {
        using var dir = new TempDir();
        var ckpt = TinyCheckpoint.Write(dir.Sub("hf"), TinySpec.For("llama") with { TokenizerConfig = false, GenerationEos = [TinyCheckpoint.ImEnd, 7] });
        GgufConverter.Convert(ckpt.Dir, dir.File("out.gguf"));
        using var f = GgufFile.Open(dir.File("out.gguf"));
        Assert.Equal((uint)TinyCheckpoint.ImEnd, f.Get<uint>("tokenizer.ggml.eos_token_id")); // generation_config.json
        Assert.Equal((uint)TinyCheckpoint.ConfigBos, f.Get<uint>("tokenizer.ggml.bos_token_id"));  // config.json
        Assert.False(f.Metadata.ContainsKey("tokenizer.chat_template"));
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("qwen3")]
    public void AttentionBiasesAreCarriedAndPermutedForLlama(string arch)
    {
        using var dir = new TempDir();
        var ckpt = TinyCheckpoint.Write(dir.Sub("hf"), TinySpec.For(arch) with { AttentionBias = true });
        GgufConverter.Convert(ckpt.Dir, dir.File("out.gguf"), new ConvertOptions { OutputType = OutputType.F32 });
        using var f = GgufFile.Open(dir.File("out.gguf"));
        CheckTensors(f, ckpt, arch, OutputType.F32);
        var qb = ckpt.Tensors["model.layers.1.self_attn.q_proj.bias"].Values;
        var got = f.ReadAsFloat32(f.Tensor("blk.1.attn_q.bias"));
        Assert.Equal(arch == "llama" ? LlamaQkPermutationTests.NumpyPermute(qb, ckpt.Spec.Heads, qb.Length) : qb, got);
        Assert.Equal(ckpt.Tensors["model.layers.1.self_attn.v_proj.bias"].Values, f.ReadAsFloat32(f.Tensor("blk.1.attn_v.bias")));
    }

    [Fact]
    public void TokenizerLargerThanTheEmbeddingIsAnError()
    {
        using var dir = new TempDir();
        var ckpt = TinyCheckpoint.Write(dir.Sub("hf"), TinySpec.For("qwen3") with { Vocab = 8 });
        var e = Assert.Throws<InvalidDataException>(() => GgufConverter.Convert(ckpt.Dir, dir.File("out.gguf")));
        Assert.Contains("vocab_size 8", e.Message);
        Assert.False(File.Exists(dir.File("out.gguf")));
    }

    internal sealed class InlineProgress(Action<ConvertProgress> report) : IProgress<ConvertProgress>
    {
        public void Report(ConvertProgress value) => report(value);
    }
}
