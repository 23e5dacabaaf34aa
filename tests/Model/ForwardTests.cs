using TiDAR.Engine.Model;
using TiDAR.Engine.Reference;

namespace TiDAR.Tests.Model;

/// <summary>The Vulkan forward equals the C# reference forward on tiny random models of each architecture.</summary>
[Collection("gpu")]
public sealed class ForwardTests(GpuFixture gpu)
{
    private const double Tolerance = 1e-4;

    public static IEnumerable<object[]> Cases()
    {
        foreach (var arch in Enum.GetValues<Architecture>())
            foreach (var type in new[] { SourceType.F32, SourceType.F16 })
                foreach (var f16Cache in new[] { false, true })
                    yield return [arch, type, f16Cache];
        foreach (var arch in Enum.GetValues<Architecture>())
            yield return [arch, SourceType.Q8_0, true];
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PrefillThenDecodeMatchesReference(Architecture arch, SourceType type, bool f16Cache)
    {
        var config = TinyModels.Config(arch);
        var weights = TinyModels.Weights(config, seed: 11, type);
        const int capacity = 32;
        using var model = new GpuModel(gpu.Device, config, weights, new GpuModelOptions { MaxRows = 16, MaxOutputRows = 16 });
        using var cache = model.CreateCache(capacity, f16Cache);
        var reference = new ReferenceModel(config, weights, capacity, f16Cache);

        int[] prompt = [5, 17, 3, 66, 0, 42, 8];
        var rows = prompt.Select((t, i) => ForwardRow.Causal(t, i)).ToArray();
        var all = Enumerable.Range(0, rows.Length).ToArray();
        var gpuLogits = model.Forward(cache, rows, all).Logits!;
        var refLogits = reference.Forward(rows, all);
        AssertClose(refLogits, gpuLogits, "prefill");

        int token = 9;
        for (int step = 0; step < 6; step++)
        {
            var row = new[] { ForwardRow.Causal(token, prompt.Length + step) };
            var g = model.Forward(cache, row, [0], logits: true, argmax: true);
            var r = reference.Forward(row, [0]);
            AssertClose(r, g.Logits!, $"decode step {step}");
            Assert.Equal(ReferenceOps.Argmax(g.Logits!, 1, config.VocabSize)[0].Index, (uint)g.Argmax![0].Token);
            token = g.Argmax[0].Token;
        }
    }

    [Theory]
    [InlineData(Architecture.Llama)]
    [InlineData(Architecture.Qwen2)]
    [InlineData(Architecture.Qwen3)]
    public void SeparateProjectionsMatchReferenceToo(Architecture arch)
    {
        var config = TinyModels.Config(arch);
        var weights = TinyModels.Weights(config, seed: 13, SourceType.F16);
        using var model = new GpuModel(gpu.Device, config, weights, new GpuModelOptions { MaxRows = 8, MaxOutputRows = 8, FuseProjections = false });
        using var cache = model.CreateCache(16, halfPrecision: false);
        var rows = new[] { 3, 1, 4, 1, 5 }.Select((t, i) => ForwardRow.Causal(t, i)).ToArray();
        var all = Enumerable.Range(0, rows.Length).ToArray();
        AssertClose(new ReferenceModel(config, weights, 16).Forward(rows, all), model.Forward(cache, rows, all).Logits!, "unfused");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RowsWithTheirOwnVisibilityMatchReference(bool gpuShapes)
    {
        // A TiDAR-shaped forward: rows at repeated positions, slots past the positions, two-interval visibility.
        var config = TinyModels.Config(Architecture.Qwen3);
        var weights = TinyModels.Weights(config, seed: 5);
        // The GPU shapes, with attention split into chunks of 16 keys (at most 4): this cache of 40 has three.
        var kernels = gpuShapes
            ? Engine.Kernels.KernelConfig.For(gpu.Device.Info with { Type = Silk.NET.Vulkan.PhysicalDeviceType.DiscreteGpu }) with { AttentionSplitMaxChunks = 4, AttentionSplitMinChunk = 16 }
            : null;
        using var model = new GpuModel(gpu.Device, config, weights, new GpuModelOptions { MaxRows = 16, MaxOutputRows = 16, Kernels = kernels });
        using var cache = model.CreateCache(40, halfPrecision: false);
        var reference = new ReferenceModel(config, weights, 40);
        var prefill = Enumerable.Range(0, 5).Select(i => ForwardRow.Causal(10 + i, i)).ToArray();
        model.Forward(cache, prefill, []);
        reference.Forward(prefill, []);
        ForwardRow[] rows =
        [
            new(20, 5, 5, 6, 0, 0),    // draft 0: cache + itself
            new(21, 6, 6, 7, 0, 0),    // draft 1: cache + drafts 0..1
            new(60, 6, 7, 6, 7, 9),    // block 1 slot 0: cache + draft 0, and its block (slots 7, 8)
            new(60, 7, 8, 6, 7, 9),    // block 1 slot 1
        ];
        var all = Enumerable.Range(0, rows.Length).ToArray();
        AssertClose(reference.Forward(rows, all), model.Forward(cache, rows, all).Logits!, "mixed visibility");
    }

    [Fact]
    public void BadRowsAreRejectedWithClearErrors()
    {
        var config = TinyModels.Config(Architecture.Llama);
        using var model = new GpuModel(gpu.Device, config, TinyModels.Weights(config, 1), new GpuModelOptions { MaxRows = 4, MaxOutputRows = 4 });
        using var cache = model.CreateCache(8);
        Assert.Contains("outside the vocabulary", Assert.Throws<ArgumentException>(() => model.Forward(cache, [ForwardRow.Causal(999, 0)], [0])).Message);
        Assert.Contains("outside the KV cache", Assert.Throws<ArgumentException>(() => model.Forward(cache, [ForwardRow.Causal(1, 8)], [0])).Message);
        Assert.Contains("1..4 rows", Assert.Throws<ArgumentException>(() => model.Forward(cache, Enumerable.Range(0, 5).Select(i => ForwardRow.Causal(1, i)).ToArray(), [0])).Message);
    }

    [Fact]
    public void WrongTensorShapesAreNamed()
    {
        var config = TinyModels.Config(Architecture.Llama);
        var weights = TinyModels.Weights(config, 1);
        var wrong = config with { FfnDim = 100 };
        var e = Assert.Throws<InvalidDataException>(() => new GpuModel(gpu.Device, wrong, weights));
        Assert.Contains("blk.0.ffn_gate.weight", e.Message);
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        double err = ReferenceOps.NormalizedError(actual, expected);
        Assert.True(err < Tolerance, $"{what}: normalised error {err:E2}");
    }
}
