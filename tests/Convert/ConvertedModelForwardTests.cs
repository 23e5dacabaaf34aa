using TiDAR.Engine.Gguf;
using TiDAR.Engine.Kernels;
using TiDAR.Engine.Model;
using TiDAR.WeightsConvert;

namespace TiDAR.Tests.Convert;

/// <summary>
/// End to end on the CPU reference: the converted GGUF (llama q/k permuted, "norm" RoPE) must compute what the
/// checkpoint computes in Hugging Face order ("neox" RoPE). This is what catches a wrong permutation or RoPE pairing.
/// </summary>
public class ConvertedModelForwardTests
{
    [Theory]
    [InlineData("llama", false)]
    [InlineData("llama", true)]
    [InlineData("qwen2", false)]
    [InlineData("qwen3", false)]
    public void GgufLogitsMatchCheckpointLogits(string arch, bool attentionBias)
    {
        using var dir = new TempDir();
        var ckpt = TinyCheckpoint.Write(dir.Sub("hf"), TinySpec.For(arch) with { DType = "F32", AttentionBias = attentionBias });
        string output = dir.File("m.gguf");
        GgufConverter.Convert(ckpt.Dir, output, new ConvertOptions { OutputType = OutputType.F32 });

        using var hf = HfWeightSource.Open(ckpt.Dir);
        var hfConfig = hf.Config.ToModelConfig() with { RopeModeOverride = RopeMode.Neox };
        using var file = GgufFile.Open(output);
        var ggufConfig = ModelConfig.FromGgufMetadata(file.Metadata, 0);
        Assert.Equal(arch == "llama" ? RopeMode.Norm : RopeMode.Neox, ggufConfig.RopeMode);

        int[] prompt = [3, 17, 42, 5, 9, 60, 1];
        var rows = prompt.Select((t, i) => ForwardRow.Causal(t, i)).ToArray();
        int[] outRows = Enumerable.Range(0, prompt.Length).ToArray();
        var expected = new ReferenceModel(hfConfig, hf, 16).Forward(rows, outRows);
        var actual = new ReferenceModel(ggufConfig, new GgufWeightSource(file), 16).Forward(rows, outRows);
        float scale = expected.Max(MathF.Abs);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= 1e-4f * scale, $"logit {i}: {actual[i]} vs {expected[i]}");
    }
}
