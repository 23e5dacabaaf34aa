using TiDAR.Engine.Gguf;
using TiDAR.Engine.Model;
using TiDAR.Engine.Vulkan;
using TiDAR.Trainer.Export;
using TiDAR.Trainer.Model;
using TiDAR.WeightsConvert;
using TorchSharp;
using static TorchSharp.torch;

namespace TiDAR.Trainer.Tests;

/// <summary>
/// Export (HF layout) -> convert (GGUF) -> engine gives the logits TorchSharp computes, for the AR rows
/// and the mask rows of the training layout (the engine's rows carry the same visibility intervals).
/// </summary>
public sealed class ExportConvertEngineTests : IDisposable
{
    private const int S = 12, K = 4;
    private readonly TempDir _dir = new();
    private readonly TidarTransformer _model;
    private readonly int[] _clean;
    private readonly float[] _torchLogits; // [2S, vocab]
    private readonly string _gguf;

    public ExportConvertEngineTests()
    {
        torch.set_num_threads(2);
        torch.manual_seed(11);
        var config = TinyData.TinyConfig(K);
        _model = new TidarTransformer(config);
        // Larger, non-trivial weights (and norm gains) so the comparison has signal everywhere.
        using (no_grad())
            foreach (var (name, p) in _model.named_parameters())
            {
                if (name.Contains("norm")) p.copy_(rand(p.shape) + 0.5);
                else p.mul_(8.0);
            }
        _clean = TinyData.Tokenizer.Encode(TinyData.Text)[..S];
        var rows = TidarTrainingMask.Rows(_clean, K, config.MaskTokenId);
        var objective = new TidarObjective(config.MaskTokenId);
        _model.eval();
        using (no_grad())
        {
            var input = tensor(rows.Select(r => (long)r.Token).ToArray(), [1, 2 * S]);
            var logits = _model.forward(input, objective.Positions(S), objective.Mask(S, K));
            _torchLogits = logits.reshape(-1).data<float>().ToArray();
        }
        string hf = Path.Combine(_dir.Path, "hf");
        TinyData.Tokenizer.Save(hf);
        HfExporter.Export(_model, hf, hf, maxPositions: 64);
        _gguf = Path.Combine(_dir.Path, "tiny.gguf");
        GgufConverter.Convert(hf, _gguf, new ConvertOptions { OutputType = OutputType.F32 });
    }

    public void Dispose() => _dir.Dispose();

    private static void AssertClose(float[] expected, float[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double maxAbs = expected.Max(Math.Abs), maxErr = 0;
        int at = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = Math.Abs(expected[i] - actual[i]);
            if (e > maxErr) { maxErr = e; at = i; }
        }
        Assert.True(maxErr <= tolerance * maxAbs, $"{what}: max error {maxErr:E3} at {at} (logit scale {maxAbs:F2})");
    }

    [Fact]
    public void ConvertedHeaderCarriesTheTidarKeys()
    {
        using var file = GgufFile.Open(_gguf);
        var (config, tokenizer) = LoadedModel.ReadHeader(file);
        Assert.Equal(Architecture.Qwen3, config.Architecture);
        Assert.Equal(TinyData.Tokenizer.MaskId, config.MaskTokenId);
        Assert.Equal(K, config.BlockSize);
        Assert.True(config.TiedEmbeddings || !file.Tensors.Any(t => t.Name == TensorNames.Output));
        Assert.Equal(TinyData.Tokenizer.VocabSize, tokenizer.VocabSize);
        Assert.Equal(TinyData.Tokenizer.EndOfTextId, tokenizer.EosId);
    }

    [Fact]
    public void ReferenceModelMatchesTorchSharpOnArAndMaskRows()
    {
        using var file = GgufFile.Open(_gguf);
        var config = LoadedModel.ReadHeader(file).Config;
        var reference = new ReferenceModel(config, new GgufWeightSource(file), 2 * S);
        var rows = TidarTrainingMask.Rows(_clean, K, config.MaskTokenId!.Value);
        var logits = reference.Forward(rows, Enumerable.Range(0, 2 * S).ToArray());
        int v = config.VocabSize;
        AssertClose(_torchLogits[..(S * v)], logits[..(S * v)], 1e-4, "AR rows");
        AssertClose(_torchLogits[(S * v)..], logits[(S * v)..], 1e-4, "mask rows");
    }

    [Fact]
    public void GpuModelMatchesTorchSharpOnArAndMaskRows()
    {
        using var device = GpuDevice.Open(new GpuDeviceOptions { Validation = false });
        using var file = GgufFile.Open(_gguf);
        var config = LoadedModel.ReadHeader(file).Config;
        using var gpu = new GpuModel(device, config, new GgufWeightSource(file), new GpuModelOptions { MaxRows = 2 * S, MaxOutputRows = 2 * S });
        using var cache = gpu.CreateCache(2 * S, halfPrecision: false);
        var rows = TidarTrainingMask.Rows(_clean, K, config.MaskTokenId!.Value);
        var logits = gpu.Forward(cache, rows, Enumerable.Range(0, 2 * S).ToArray(), logits: true).Logits!;
        int v = config.VocabSize;
        AssertClose(_torchLogits[..(S * v)], logits[..(S * v)], 2e-3, "AR rows");
        AssertClose(_torchLogits[(S * v)..], logits[(S * v)..], 2e-3, "mask rows");
    }
}
