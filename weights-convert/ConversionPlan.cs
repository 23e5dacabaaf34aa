using TiDAR.Engine.Gguf;
using TiDAR.Engine.Model;

namespace TiDAR.WeightsConvert;

/// <summary>
/// Decides what the GGUF will hold: every tensor the hyperparameters call for, with the shape they imply (each
/// checkpoint tensor is checked against it), its output encoding (2-D weights in the requested type, norms and
/// biases f32) and, for llama, which q/k tensors get llama.cpp's RoPE row permutation. Missing, misshapen,
/// unplaceable or unreadable tensors throw before anything is written.
/// </summary>
public static class ConversionPlan
{
    public static IReadOnlyList<PlannedTensor> Build(HfWeightSource source, ModelConfig config, bool attentionBias,
        OutputType outputType, ICollection<string> warnings)
    {
        var expected = ExpectedShapes(config, attentionBias);

        // Every tensor the checkpoint offers must have a place.
        foreach (var name in source.Names)
            if (!expected.ContainsKey(name))
                throw new InvalidDataException($"Checkpoint tensor '{source.HfName(name)}' ({name}) has no place in a {ModelConfig.GgufName(config.Architecture)} model with {config.Layers} layers"
                    + (name.EndsWith(".bias", StringComparison.Ordinal) ? " and no attention biases (config attention_bias is false)" : "")
                    + (name.Contains("_norm.weight") && name.Contains("attn_") ? " and no q/k norms (only Qwen3 has them)" : "") + ".");

        var missing = expected.Keys.Where(n => !source.Contains(n)).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"The checkpoint lacks {missing.Count} tensor(s) the config calls for: {string.Join(", ", missing.Take(8))}{(missing.Count > 8 ? ", ..." : "")}"
                + (missing.Contains(TensorNames.Output) ? " (lm_head.weight is needed because tie_word_embeddings is false)" : "") + ".");

        var plan = new List<PlannedTensor>(expected.Count);
        foreach (var (name, shape) in expected)
        {
            string hfName = source.HfName(name);
            source.StoredType(name); // NotSupportedException naming the tensor and dtype
            var actual = source.HfShape(name);
            if (!actual.SequenceEqual(shape))
                throw new InvalidDataException($"Tensor '{hfName}' has shape [{string.Join(", ", actual)}] but the config implies [{string.Join(", ", shape)}].");

            GgmlType type = GgmlType.F32;
            if (shape.Length == 2)
            {
                type = ToGgml(outputType);
                if (outputType == OutputType.Q8_0 && shape[1] % GgmlQuant.QK != 0)
                {
                    type = GgmlType.F16;
                    warnings.Add($"{name}: rows of {shape[1]} elements are not a multiple of {GgmlQuant.QK}; written as f16 instead of q8_0.");
                }
            }
            int? permute = null;
            if (config.Architecture == Architecture.Llama)
            {
                if (name.EndsWith(".attn_q.weight", StringComparison.Ordinal) || name.EndsWith(".attn_q.bias", StringComparison.Ordinal)) permute = config.Heads;
                else if (name.EndsWith(".attn_k.weight", StringComparison.Ordinal) || name.EndsWith(".attn_k.bias", StringComparison.Ordinal)) permute = config.KvHeads;
                if (permute is int h) LlamaQkPermutation.Check(h, shape[0]);
            }
            plan.Add(new PlannedTensor(name, hfName, shape, type, permute));
        }
        return plan;
    }

    /// <summary>GGUF name -> PyTorch shape of every tensor the model needs, in the order they are written.</summary>
    public static IReadOnlyDictionary<string, long[]> ExpectedShapes(ModelConfig c, bool attentionBias)
    {
        long d = c.Dim, v = c.VocabSize, q = c.QDim, kv = c.KvDim, f = c.FfnDim, hd = c.HeadDim;
        var shapes = new OrderedDictionary<string, long[]>(StringComparer.Ordinal)
        {
            [TensorNames.TokenEmbedding] = [v, d],
        };
        for (int l = 0; l < c.Layers; l++)
        {
            shapes[TensorNames.AttnNorm(l)] = [d];
            shapes[TensorNames.Q(l)] = [q, d];
            shapes[TensorNames.K(l)] = [kv, d];
            shapes[TensorNames.V(l)] = [kv, d];
            if (attentionBias)
            {
                shapes[TensorNames.QBias(l)] = [q];
                shapes[TensorNames.KBias(l)] = [kv];
                shapes[TensorNames.VBias(l)] = [kv];
            }
            if (c.QkNorm)
            {
                shapes[TensorNames.QNorm(l)] = [hd];
                shapes[TensorNames.KNorm(l)] = [hd];
            }
            shapes[TensorNames.AttnOutput(l)] = [d, q];
            shapes[TensorNames.FfnNorm(l)] = [d];
            shapes[TensorNames.Gate(l)] = [f, d];
            shapes[TensorNames.Up(l)] = [f, d];
            shapes[TensorNames.Down(l)] = [d, f];
        }
        shapes[TensorNames.OutputNorm] = [d];
        if (!c.TiedEmbeddings) shapes[TensorNames.Output] = [v, d];
        return shapes;
    }

    private static GgmlType ToGgml(OutputType t) => t switch
    {
        OutputType.F32 => GgmlType.F32,
        OutputType.F16 => GgmlType.F16,
        OutputType.BF16 => GgmlType.BF16,
        OutputType.Q8_0 => GgmlType.Q8_0,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };
}
