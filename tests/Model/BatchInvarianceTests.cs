using TiDAR.Engine.Model;

namespace TiDAR.Tests.Model;

/// <summary>
/// Exact TiDAR decoding reproduces AR greedy only if a row's logits do not depend on how many other
/// rows share its forward. The kernels are built so (each output is reduced in the same order for
/// any number of rows); these tests hold them to it, bit for bit.
/// </summary>
[Collection("gpu")]
public sealed class BatchInvarianceTests(GpuFixture gpu)
{
    [Theory]
    [InlineData(Architecture.Llama, SourceType.F32)]
    [InlineData(Architecture.Qwen2, SourceType.F16)]
    [InlineData(Architecture.Qwen3, SourceType.Q8_0)]
    public void RowLogitsAreBitIdenticalWhateverTheBatch(Architecture arch, SourceType type)
    {
        Check(arch, type, kernels: null);
        // The GPU kernel shapes (wide workgroups, shared-memory tiles from 16 rows) must hold it too.
        var gpuShapes = Engine.Kernels.KernelConfig.For(gpu.Device.Info with { Type = Silk.NET.Vulkan.PhysicalDeviceType.DiscreteGpu });
        Check(arch, type, gpuShapes);
    }

    private void Check(Architecture arch, SourceType type, Engine.Kernels.KernelConfig? kernels)
    {
        var config = TinyModels.Config(arch);
        var weights = TinyModels.Weights(config, seed: 4, type);
        using var model = new GpuModel(gpu.Device, config, weights, new GpuModelOptions { MaxRows = 32, MaxOutputRows = 32, Kernels = kernels });
        int[] tokens = [3, 9, 27, 14, 50, 1, 2, 33, 8, 61, 12, 40, 7, 19, 22, 5, 30, 44, 6, 10];
        using var batched = model.CreateCache(32);
        var rows = tokens.Select((t, i) => ForwardRow.Causal(t, i)).ToArray();
        var all = model.Forward(batched, rows, Enumerable.Range(0, rows.Length).ToArray()).Logits!;
        using var single = model.CreateCache(32);
        for (int i = 0; i < tokens.Length; i++)
        {
            var one = model.Forward(single, [rows[i]], [0]).Logits!;
            for (int v = 0; v < config.VocabSize; v++)
                Assert.True(BitConverter.SingleToInt32Bits(one[v]) == BitConverter.SingleToInt32Bits(all[i * config.VocabSize + v]),
                    $"row {i} token {v}: {one[v]:R} alone vs {all[i * config.VocabSize + v]:R} in a batch of {tokens.Length}");
        }
    }
}
