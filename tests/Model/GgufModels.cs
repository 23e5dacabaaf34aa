using MemoryMarshal = System.Runtime.InteropServices.MemoryMarshal;
using TiDAR.Engine.Gguf;
using TiDAR.Engine.Model;
using TiDAR.Engine.Tokenizer;

namespace TiDAR.Tests.Model;

/// <summary>Writes tiny random models as GGUF files the way llama.cpp lays them out, with a tiny BPE tokenizer.</summary>
public static class GgufModels
{
    /// <summary>The tiny byte-level BPE vocabulary plus a &lt;|mask|&gt; control token at the end.</summary>
    public static TokenizerData Tokenizer()
    {
        var t = TokenizerTestData.TinyBpe();
        return t with
        {
            Tokens = [.. t.Tokens, "<|mask|>"],
            TokenTypes = [.. t.TokenTypes, TokenType.Control],
        };
    }

    public static int VocabSize => Tokenizer().Tokens.Count;
    public static int MaskId => VocabSize - 1;

    public static ModelConfig Config(Architecture arch, bool tidar = true) =>
        TinyModels.Config(arch, VocabSize, context: 256) with { MaskTokenId = tidar ? MaskId : null, BlockSize = tidar ? 4 : null };

    /// <summary>Writes a model; 2-D weights in <paramref name="matrixType"/>, vectors in f32 (as llama.cpp's converter does).</summary>
    public static void Write(string path, ModelConfig c, MemoryWeightSource weights, GgmlType matrixType, string? architectureName = null)
    {
        using var w = new GgufWriter(path);
        string arch = architectureName ?? ModelConfig.GgufName(c.Architecture);
        w.SetMetadata("general.architecture", arch);
        w.SetMetadata("general.name", "tiny test model");
        w.SetMetadata($"{arch}.context_length", (uint)c.ContextLength);
        w.SetMetadata($"{arch}.embedding_length", (uint)c.Dim);
        w.SetMetadata($"{arch}.block_count", (uint)c.Layers);
        w.SetMetadata($"{arch}.feed_forward_length", (uint)c.FfnDim);
        w.SetMetadata($"{arch}.attention.head_count", (uint)c.Heads);
        w.SetMetadata($"{arch}.attention.head_count_kv", (uint)c.KvHeads);
        w.SetMetadata($"{arch}.attention.key_length", (uint)c.HeadDim);
        w.SetMetadata($"{arch}.attention.value_length", (uint)c.HeadDim);
        w.SetMetadata($"{arch}.attention.layer_norm_rms_epsilon", c.RmsEps);
        w.SetMetadata($"{arch}.rope.freq_base", c.RopeBase);
        foreach (var (k, v) in Tokenizer().ToGgufMetadata()) w.SetMetadata(k, v);
        if (c.MaskTokenId is int mask) w.SetMetadata("tidar.mask_token_id", (uint)mask);
        if (c.BlockSize is int block) w.SetMetadata("tidar.block_size", (uint)block);

        var names = weights.Names.ToList();
        var types = new Dictionary<string, GgmlType>();
        foreach (var name in names)
        {
            var d = weights.Describe(name);
            types[name] = d.Dimensions.Length == 2 ? matrixType : GgmlType.F32;
            w.AddTensor(name, types[name], d.Dimensions.Select(x => (ulong)x).ToArray());
        }
        foreach (var name in names)
        {
            var v = weights.ReadFloat32(name);
            byte[] bytes = types[name] switch
            {
                GgmlType.F32 => MemoryMarshal.AsBytes(v.AsSpan()).ToArray(),
                GgmlType.F16 => GgmlQuant.ToF16(v),
                GgmlType.BF16 => GgmlQuant.ToBF16(v),
                GgmlType.Q8_0 => GgmlQuant.QuantizeQ8_0(v),
                GgmlType.Q4_0 => GgmlQuant.QuantizeQ4_0(v),
                _ => throw new NotSupportedException(types[name].ToString()),
            };
            w.WriteTensorData(bytes);
        }
        w.Finish();
    }
}
