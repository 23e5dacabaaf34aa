using TiDAR.Engine.Generation;
using TiDAR.Engine.Model;
using TiDAR.Engine.Vulkan;

namespace TiDAR.Tests.Model;

/// <summary>
/// One command buffer and one wait per decoding step, also where device memory is not mapped (staging
/// copies then ride in the step's own command buffer); results equal the mapped path.
/// </summary>
[Collection("gpu")]
public sealed class SubmissionTests(GpuFixture gpu)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EachStepIsOneSubmission(bool forceStaging)
    {
        using var device = forceStaging ? GpuDevice.Open(gpu.Options() with { ForceStagingCopies = true, PipelineCacheDir = "" }) : null;
        var dev = device ?? gpu.Device;
        var config = TinyModels.Config(Architecture.Qwen3, 6, context: 120) with { MaskTokenId = 5 };
        var weights = TinyModels.Weights(config, 2);
        using var model = new GpuModel(dev, config, weights, new GpuModelOptions { MaxRows = 20, MaxOutputRows = 20 });
        using var cache = model.CreateCache(100);
        long before = dev.Submissions;
        var r = new TidarDecoder(model, cache).Generate([1, 2, 3], new GenerationOptions { MaxTokens = 30 }, new TidarOptions { Block = 4 });
        Assert.Equal(r.Stats.Forwards, dev.Submissions - before);

        before = dev.Submissions;
        using var arCache = model.CreateCache(100);
        var ar = new ArDecoder(model, arCache).Generate([1, 2, 3], new GenerationOptions { MaxTokens = 30, Sampling = new SamplingOptions { Temperature = 1, Seed = 3 } });
        Assert.Equal(ar.Stats.Forwards, dev.Submissions - before);

        // Same tokens whichever way the memory is reached.
        using var reference = new GpuModel(gpu.Device, config, weights, new GpuModelOptions { MaxRows = 20, MaxOutputRows = 20 });
        using var refCache = reference.CreateCache(100);
        Assert.Equal(new TidarDecoder(reference, refCache).Generate([1, 2, 3], new GenerationOptions { MaxTokens = 30 }, new TidarOptions { Block = 4 }).Tokens, r.Tokens);
    }
}
