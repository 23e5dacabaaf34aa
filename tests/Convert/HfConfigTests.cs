using TiDAR.Engine.Model;
using TiDAR.WeightsConvert;

namespace TiDAR.Tests.Convert;

public class HfConfigTests
{
    private const string Minimal = """
        {"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
         "intermediate_size": 96, "vocab_size": 100 }
        """;

    [Fact]
    public void DefaultsFollowTransformers()
    {
        var c = HfConfig.Parse(Minimal);
        Assert.Equal(Architecture.Llama, c.Architecture);
        Assert.Equal(4, c.NumKvHeads);
        Assert.Equal(16, c.HeadDim);
        Assert.Equal(10000.0, c.RopeTheta);
        Assert.Equal(1e-6, c.RmsNormEps);
        Assert.False(c.TieWordEmbeddings);
        Assert.False(c.AttentionBias);
        Assert.Null(c.MaskTokenId);
        Assert.Null(c.EosTokenId);
    }

    [Fact]
    public void ReadsEverything()
    {
        var c = HfConfig.Parse("""
            {"architectures": ["Qwen3ForCausalLM"], "hidden_size": 64, "num_hidden_layers": 3, "num_attention_heads": 4,
             "num_key_value_heads": 2, "head_dim": 24, "intermediate_size": 96, "vocab_size": 100, "rms_norm_eps": 1e-5,
             "rope_theta": 1000000, "max_position_embeddings": 4096, "tie_word_embeddings": true, "bos_token_id": null,
             "eos_token_id": 5, "tidar_mask_token_id": 99, "tidar_block_size": 8, "rope_scaling": null, "hidden_act": "silu"}
            """, "config.json", """{"eos_token_id": [7, 5]}""");
        Assert.Equal(Architecture.Qwen3, c.Architecture);
        Assert.Equal((3, 2, 24, 4096), (c.NumLayers, c.NumKvHeads, c.HeadDim, c.MaxPositionEmbeddings));
        Assert.Equal(1e6, c.RopeTheta);
        Assert.Equal(1e-5, c.RmsNormEps);
        Assert.True(c.TieWordEmbeddings);
        Assert.Null(c.BosTokenId);
        Assert.Equal(7, c.EosTokenId); // generation_config.json wins, first of the list
        Assert.Equal(99, c.MaskTokenId);
        Assert.Equal(8, c.BlockSize);
        var m = c.ToModelConfig();
        Assert.Equal((99, 8, 24), (m.MaskTokenId!.Value, m.BlockSize!.Value, m.RotaryDims));
        Assert.Equal(12, c.ToModelConfig(maskTokenId: 12).MaskTokenId);
    }

    [Fact]
    public void Qwen2AlwaysHasAttentionBias() =>
        Assert.True(HfConfig.Parse(Minimal.Replace("LlamaForCausalLM", "Qwen2ForCausalLM")).AttentionBias);

    [Fact]
    public void UnsupportedArchitectureListsTheSupportedOnes()
    {
        var e = Assert.Throws<NotSupportedException>(() => HfConfig.Parse(Minimal.Replace("LlamaForCausalLM", "MistralForCausalLM")));
        Assert.Contains("MistralForCausalLM", e.Message);
        foreach (var a in new[] { "Qwen2ForCausalLM", "Qwen3ForCausalLM", "LlamaForCausalLM" }) Assert.Contains(a, e.Message);
    }

    [Theory]
    [InlineData("\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0}", typeof(NotSupportedException))]
    [InlineData("\"hidden_act\": \"gelu\"", typeof(NotSupportedException))]
    [InlineData("\"hidden_size\": \"64\"", typeof(InvalidDataException))]
    [InlineData("\"num_key_value_heads\": 3", typeof(InvalidDataException))]
    [InlineData("\"mask_token_id\": 100", typeof(InvalidDataException))]
    public void BadValuesAreClearErrors(string extra, Type expected)
    {
        string json = Minimal.TrimEnd().TrimEnd('}') + ", " + extra + "}";
        if (extra.StartsWith("\"hidden_size\"")) json = Minimal.Replace("\"hidden_size\": 64", extra);
        var e = Assert.ThrowsAny<Exception>(() => HfConfig.Parse(json));
        Assert.IsType(expected, e);
    }

    [Fact]
    public void MissingKeyAndBadJsonNameTheFile()
    {
        Assert.Contains("vocab_size", Assert.Throws<InvalidDataException>(() => HfConfig.Parse(Minimal.Replace("\"vocab_size\": 100", "\"x\": 1"), "cfg/config.json")).Message);
        Assert.Contains("cfg/config.json", Assert.Throws<InvalidDataException>(() => HfConfig.Parse("{not json", "cfg/config.json")).Message);
        Assert.Contains("architectures", Assert.Throws<InvalidDataException>(() => HfConfig.Parse("{}")).Message);
    }
}
