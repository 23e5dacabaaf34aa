using TiDAR.Engine.Model;
using TiDAR.WeightsConvert;

namespace TiDAR.Tests.Convert;

public class HfWeightSourceTests
{
    [Theory]
    [InlineData("llama", 0)]
    [InlineData("qwen2", 0)]
    [InlineData("qwen3", 3)]
    public void ExposesTensorsUnderGgufNamesUnpermuted(string arch, int shards)
    {
        using var dir = new TempDir();
        var ckpt = TinyCheckpoint.Write(dir.Sub("hf"), TinySpec.For(arch) with { Shards = shards });
        using var source = HfWeightSource.Open(ckpt.Dir);

        Assert.Contains("model.layers.0.self_attn.rotary_emb.inv_freq", source.IgnoredTensors);
        Assert.Equal(ckpt.Spec.Tied, !source.Contains(TensorNames.Output));
        if (ckpt.Spec.Tied) Assert.Contains("lm_head.weight", source.IgnoredTensors);
        Assert.Equal(arch == "qwen2", source.Contains(TensorNames.QBias(1)));
        Assert.Equal(arch == "qwen3", source.Contains(TensorNames.KNorm(1)));

        foreach (var name in source.Names)
        {
            string hf = source.HfName(name);
            var (shape, values) = ckpt.Tensors[hf];
            var d = source.Describe(name);
            Assert.Equal(shape.Reverse(), d.Dimensions);
            Assert.Equal(ckpt.Spec.DType switch { "F32" => SourceType.F32, "F16" => SourceType.F16, _ => SourceType.BF16 }, d.Type);
            Assert.Equal(values, source.ReadFloat32(name)); // no permutation, exact
        }
        Assert.Equal("model.layers.1.self_attn.q_proj.weight", source.HfName(TensorNames.Q(1)));
        Assert.Equal("model.embed_tokens.weight", source.HfName(TensorNames.TokenEmbedding));

        var emb = ckpt.Tensors["model.embed_tokens.weight"].Values;
        int dim = ckpt.Spec.Hidden;
        Assert.Equal(emb.AsSpan(5 * dim, 3 * dim).ToArray(), source.ReadFloat32Rows(TensorNames.TokenEmbedding, 5, 3));
        Assert.Equal(SafetensorsTestWriter.Encode(ckpt.Tensors["model.norm.weight"].Values, ckpt.Spec.DType), source.ReadRaw(TensorNames.OutputNorm));
        Assert.Throws<InvalidDataException>(() => source.Describe("blk.9.attn_q.weight"));
    }

    [Fact]
    public void MapsEveryKnownName()
    {
        Assert.Equal(("token_embd.weight", -1), HfTensorNames.ToGguf("model.embed_tokens.weight"));
        Assert.Equal(("output_norm.weight", -1), HfTensorNames.ToGguf("model.norm.weight"));
        Assert.Equal(("output.weight", -1), HfTensorNames.ToGguf("lm_head.weight"));
        var layer = new Dictionary<string, string>
        {
            ["input_layernorm.weight"] = "attn_norm.weight",
            ["self_attn.q_proj.weight"] = "attn_q.weight", ["self_attn.k_proj.weight"] = "attn_k.weight", ["self_attn.v_proj.weight"] = "attn_v.weight",
            ["self_attn.q_proj.bias"] = "attn_q.bias", ["self_attn.k_proj.bias"] = "attn_k.bias", ["self_attn.v_proj.bias"] = "attn_v.bias",
            ["self_attn.o_proj.weight"] = "attn_output.weight",
            ["self_attn.q_norm.weight"] = "attn_q_norm.weight", ["self_attn.k_norm.weight"] = "attn_k_norm.weight",
            ["post_attention_layernorm.weight"] = "ffn_norm.weight",
            ["mlp.gate_proj.weight"] = "ffn_gate.weight", ["mlp.up_proj.weight"] = "ffn_up.weight", ["mlp.down_proj.weight"] = "ffn_down.weight",
        };
        foreach (var (hf, gguf) in layer) Assert.Equal(($"blk.17.{gguf}", 17), HfTensorNames.ToGguf($"model.layers.17.{hf}"));
        Assert.Null(HfTensorNames.ToGguf("model.layers.0.self_attn.rotary_emb.inv_freq"));
        Assert.Null(HfTensorNames.ToGguf("model.layers.01.mlp.up_proj.weight"));
        Assert.Null(HfTensorNames.ToGguf("model.layers.x.mlp.up_proj.weight"));
        Assert.Null(HfTensorNames.ToGguf("visual.blocks.0.weight"));
    }
}
