using System.Text.RegularExpressions;
using TiDAR.Engine.Model;

namespace TiDAR.WeightsConvert;

/// <summary>Hugging Face (transformers Llama/Qwen2/Qwen3) tensor names to llama.cpp's GGUF names.</summary>
public static partial class HfTensorNames
{
    private static readonly Dictionary<string, Func<int, string>> LayerTensors = new(StringComparer.Ordinal)
    {
        ["input_layernorm.weight"] = TensorNames.AttnNorm,
        ["self_attn.q_proj.weight"] = TensorNames.Q,
        ["self_attn.k_proj.weight"] = TensorNames.K,
        ["self_attn.v_proj.weight"] = TensorNames.V,
        ["self_attn.q_proj.bias"] = TensorNames.QBias,
        ["self_attn.k_proj.bias"] = TensorNames.KBias,
        ["self_attn.v_proj.bias"] = TensorNames.VBias,
        ["self_attn.o_proj.weight"] = TensorNames.AttnOutput,
        ["self_attn.q_norm.weight"] = TensorNames.QNorm,
        ["self_attn.k_norm.weight"] = TensorNames.KNorm,
        ["post_attention_layernorm.weight"] = TensorNames.FfnNorm,
        ["mlp.gate_proj.weight"] = TensorNames.Gate,
        ["mlp.up_proj.weight"] = TensorNames.Up,
        ["mlp.down_proj.weight"] = TensorNames.Down,
    };

    [GeneratedRegex(@"^model\.layers\.(0|[1-9][0-9]{0,5})\.(.+)$", RegexOptions.CultureInvariant)]
    private static partial Regex LayerName();

    /// <summary>The GGUF name and layer (-1 for global tensors) of a checkpoint tensor, or null for tensors the
    /// converter does not carry (rotary_emb.inv_freq and anything else unknown).</summary>
    public static (string GgufName, int Layer)? ToGguf(string hfName)
    {
        switch (hfName)
        {
            case "model.embed_tokens.weight": return (TensorNames.TokenEmbedding, -1);
            case "model.norm.weight": return (TensorNames.OutputNorm, -1);
            case "lm_head.weight": return (TensorNames.Output, -1);
        }
        var m = LayerName().Match(hfName);
        if (!m.Success || !LayerTensors.TryGetValue(m.Groups[2].Value, out var name)) return null;
        int layer = int.Parse(m.Groups[1].ValueSpan, provider: System.Globalization.CultureInfo.InvariantCulture);
        return (name(layer), layer);
    }
}
