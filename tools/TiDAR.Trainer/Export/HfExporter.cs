using System.Text.Json;
using TorchSharp;
using TiDAR.Trainer.Model;

namespace TiDAR.Trainer.Export;

/// <summary>
/// Writes a trained model in Hugging Face Qwen3 layout: model.safetensors (f32, PyTorch [out, in] shapes,
/// HF tensor names, lm_head omitted because the embeddings are tied), config.json with our
/// mask_token_id and block_size keys, tokenizer.json and tokenizer_config.json.
/// </summary>
public static class HfExporter
{
    /// <summary>TorchSharp parameter name -> HF Qwen3 tensor name.</summary>
    public static string HfName(string name)
    {
        if (name == "embed_tokens.weight") return "model.embed_tokens.weight";
        if (name == "norm.weight") return "model.norm.weight";
        var parts = name.Split('.');
        if (parts.Length == 4 && parts[0] == "layers")
        {
            string layer = $"model.layers.{parts[1]}.";
            return parts[2] switch
            {
                "input_layernorm" or "post_attention_layernorm" => layer + parts[2] + ".weight",
                "q_proj" or "k_proj" or "v_proj" or "o_proj" or "q_norm" or "k_norm" => layer + "self_attn." + parts[2] + ".weight",
                "gate_proj" or "up_proj" or "down_proj" => layer + "mlp." + parts[2] + ".weight",
                _ => throw new InvalidOperationException($"unexpected parameter {name}"),
            };
        }
        throw new InvalidOperationException($"unexpected parameter {name}");
    }

    public static void Export(TidarTransformer model, string tokenizerDir, string outDir, int maxPositions)
    {
        Directory.CreateDirectory(outDir);
        var c = model.Config;
        var tensors = new List<(string, long[], float[])>();
        using (torch.no_grad())
            foreach (var (name, p) in model.named_parameters())
                tensors.Add((HfName(name), p.shape, p.detach().contiguous().data<float>().ToArray()));
        SafetensorsWriter.Write(Path.Combine(outDir, "model.safetensors"), tensors);
        var config = new Dictionary<string, object?>
        {
            ["architectures"] = new[] { "Qwen3ForCausalLM" },
            ["model_type"] = "qwen3",
            ["hidden_size"] = c.Dim,
            ["num_hidden_layers"] = c.Layers,
            ["num_attention_heads"] = c.Heads,
            ["num_key_value_heads"] = c.KvHeads,
            ["head_dim"] = c.HeadDim,
            ["intermediate_size"] = c.FfnDim,
            ["hidden_act"] = "silu",
            ["rms_norm_eps"] = c.RmsEps,
            ["rope_theta"] = c.RopeTheta,
            ["max_position_embeddings"] = maxPositions,
            ["vocab_size"] = c.VocabSize,
            ["tie_word_embeddings"] = true,
            ["attention_bias"] = false,
            ["eos_token_id"] = c.EosTokenId,
            ["pad_token_id"] = c.EosTokenId,
            ["mask_token_id"] = c.MaskTokenId,
            ["block_size"] = c.BlockSize,
            ["torch_dtype"] = "float32",
            ["use_cache"] = true,
        };
        File.WriteAllText(Path.Combine(outDir, "config.json"), JsonSerializer.Serialize(config, new JsonSerializerOptions { WriteIndented = true }));
        File.WriteAllText(Path.Combine(outDir, "generation_config.json"), JsonSerializer.Serialize(
            new Dictionary<string, object> { ["eos_token_id"] = c.EosTokenId, ["pad_token_id"] = c.EosTokenId, ["do_sample"] = false }, new JsonSerializerOptions { WriteIndented = true }));
        foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json" })
            if (Path.GetFullPath(tokenizerDir) != Path.GetFullPath(outDir))
                File.Copy(Path.Combine(tokenizerDir, f), Path.Combine(outDir, f), true);
    }
}
