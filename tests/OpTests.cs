using TiDAR.Engine.Checks;
using TiDAR.Engine.Kernels;

namespace TiDAR.Tests;

/// <summary>Every shader against its C# reference over many shapes, odd sizes included, by normalised error.</summary>
[Collection("gpu")]
public sealed class OpTests(GpuFixture gpu)
{
    private readonly OpChecks _checks = new(gpu.Device, gpu.Kernels, seed: 42);

    private static void Pass(OpCheckResult r) =>
        Assert.True(r.Passed, $"{r.Op} {r.Shape}: normalised error {r.Error:E2} > tolerance {r.Tolerance:E1}");

    [Theory]
    [InlineData(1, 1, 1, TensorType.F32)]
    [InlineData(50, 96, 7, TensorType.F32)]
    [InlineData(1000, 97, 5, TensorType.F16)]
    [InlineData(3, 2048, 9, TensorType.F16)]
    public void Embedding(int vocab, int dim, int rows, TensorType type) => Pass(_checks.Embedding(vocab, dim, rows, type));

    [Theory]
    [InlineData(1, 1)]
    [InlineData(5, 896)]
    [InlineData(3, 1001)]
    [InlineData(64, 128)]
    [InlineData(2, 4096)]
    public void RmsNorm(int rows, int cols) => Pass(_checks.RmsNorm(rows, cols));

    public static IEnumerable<object?[]> MatMulCases()
    {
        var shapes = new (int M, int N, int K)[]
        {
            (1, 1, 1), (1, 7, 3), (1, 333, 101), (1, 1000, 896), (1, 17, 4096),
            (2, 5, 4), (3, 64, 64), (8, 33, 7), (9, 77, 64), (33, 129, 256), (65, 70, 99), (130, 64, 33),
        };
        foreach (var (m, n, k) in shapes)
            foreach (var type in new[] { TensorType.F32, TensorType.F16 })
                foreach (var variant in new MatMulVariant?[] { null, MatMulVariant.RegisterTiled, MatMulVariant.SharedTiled, MatMulVariant.RowPerLane })
                    yield return [m, n, k, type, variant];
        foreach (var (m, n, k) in new[] { (1, 7, 32), (1, 1000, 896), (3, 65, 64), (9, 77, 96), (70, 130, 256) })
            foreach (var variant in new MatMulVariant?[] { null, MatMulVariant.RegisterTiled, MatMulVariant.SharedTiled, MatMulVariant.RowPerLane })
                yield return [m, n, k, TensorType.Q8_0, variant];
    }

    [Theory]
    [MemberData(nameof(MatMulCases))]
    public void MatMul(int m, int n, int k, TensorType type, MatMulVariant? variant) => Pass(_checks.MatMul(m, n, k, type, variant));

    [Theory]
    [InlineData(1, 14, 2, 64, 64, RopeMode.Neox, true, false, false)]     // qwen2: q/k/v biases
    [InlineData(5, 14, 2, 64, 64, RopeMode.Neox, true, false, true)]
    [InlineData(3, 8, 4, 128, 128, RopeMode.Neox, false, true, false)]    // qwen3: per-head q/k norms
    [InlineData(2, 8, 4, 128, 128, RopeMode.Neox, false, true, true)]
    [InlineData(4, 6, 6, 48, 48, RopeMode.Norm, false, false, false)]     // llama
    [InlineData(3, 4, 2, 64, 32, RopeMode.Neox, true, true, false)]       // partial rotary
    [InlineData(2, 4, 1, 64, 16, RopeMode.Norm, false, true, true)]
    [InlineData(20, 3, 1, 6, 6, RopeMode.Norm, true, true, false)]        // head smaller than a subgroup
    public void QkvRopeStoreEqualsBiasNormRopeAndStore(int rows, int heads, int kvHeads, int hd, int rot, RopeMode mode, bool bias, bool norm, bool f16) =>
        Pass(_checks.QkvRopeStore(rows, heads, kvHeads, hd, rot, mode, bias, norm, f16));

    [Theory]
    [InlineData(1, 300, 96, TensorType.F32, null)]
    [InlineData(1, 77, 35, TensorType.F16, null)]
    [InlineData(5, 96, 64, TensorType.Q8_0, null)]
    [InlineData(9, 130, 64, TensorType.F32, MatMulVariant.RegisterTiled)]
    [InlineData(70, 130, 99, TensorType.F16, MatMulVariant.SharedTiled)]
    [InlineData(6, 130, 99, TensorType.F16, MatMulVariant.RowPerLane)]
    public void MatMulAccumulatesIntoTheOutput(int m, int n, int k, TensorType type, MatMulVariant? variant) =>
        Pass(_checks.MatMul(m, n, k, type, variant, accumulate: true));

    [Theory]
    [InlineData(1, 96, 64, TensorType.F32, null, true, false)]
    [InlineData(1, 77, 35, TensorType.F16, null, true, false)]
    [InlineData(1, 512, 288, TensorType.Q8_0, null, true, true)]
    [InlineData(1, 130, 99, TensorType.F32, null, false, true)]
    [InlineData(3, 256, 96, TensorType.F32, null, true, true)]
    [InlineData(20, 96, 64, TensorType.Q8_0, MatMulVariant.RegisterTiled, true, false)]
    [InlineData(9, 130, 64, TensorType.F16, MatMulVariant.RegisterTiled, false, true)]
    [InlineData(70, 130, 99, TensorType.F32, MatMulVariant.SharedTiled, true, false)]
    [InlineData(70, 130, 99, TensorType.F16, MatMulVariant.SharedTiled, true, true)]
    [InlineData(65, 192, 64, TensorType.Q8_0, MatMulVariant.SharedTiled, false, true)]
    [InlineData(1, 130, 99, TensorType.F16, MatMulVariant.RowPerLane, true, true)]
    [InlineData(7, 96, 64, TensorType.Q8_0, MatMulVariant.RowPerLane, true, true)]
    [InlineData(20, 77, 35, TensorType.F32, MatMulVariant.RowPerLane, true, false)]
    public void MatMulWithFusedNormAndSwiGlu(int m, int n, int k, TensorType type, MatMulVariant? variant, bool norm, bool glu) =>
        Pass(_checks.MatMul(m, n, k, type, variant, accumulate: m % 2 == 1, norm: norm, glu: glu));

    [Theory]
    [InlineData(1)]
    [InlineData(1003)]
    [InlineData(70000)]
    public void ResidualAdd(int n) => Pass(_checks.Add(n));

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 131)]
    [InlineData(16, 896)]
    public void BiasAdd(int rows, int cols) => Pass(_checks.AddBias(rows, cols));

    [Theory]
    [InlineData(1)]
    [InlineData(4865)]
    [InlineData(65537)]
    public void SwiGlu(int n) => Pass(_checks.SwiGlu(n));

    [Theory]
    [InlineData(1, 1, 2, 2, RopeMode.Neox, 10)]
    [InlineData(5, 4, 64, 64, RopeMode.Neox, 4096)]
    [InlineData(7, 3, 128, 128, RopeMode.Norm, 2048)]
    [InlineData(3, 2, 80, 32, RopeMode.Neox, 512)]
    [InlineData(3, 2, 80, 32, RopeMode.Norm, 512)]
    [InlineData(2, 14, 64, 64, RopeMode.Neox, 32768)]
    public void Rope(int rows, int heads, int headDim, int nRot, RopeMode mode, int maxPos) =>
        Pass(_checks.Rope(rows, heads, headDim, nRot, mode, maxPos, freqBase: mode == RopeMode.Neox ? 1000000f : 10000f));

    [Theory]
    [InlineData(1, 2, 1, false)]
    [InlineData(6, 128, 40, false)]
    [InlineData(5, 96, 17, true)]
    [InlineData(20, 512, 20, true)]
    public void KvStore(int rows, int kvDim, int capacity, bool f16) => Pass(_checks.KvStore(rows, kvDim, capacity, f16));

    [Theory]
    [InlineData(1, 1, 1, 32, 0, false)]
    [InlineData(5, 4, 1, 40, 3, false)]
    [InlineData(20, 8, 2, 64, 50, false)]
    [InlineData(9, 6, 6, 128, 33, true)]
    [InlineData(12, 14, 2, 64, 300, true)]
    [InlineData(4, 2, 1, 80, 10, false)]
    [InlineData(3, 4, 2, 256, 7, true)]
    [InlineData(72, 4, 2, 16, 40, false)]
    public void Attention(int rows, int heads, int kvHeads, int headDim, int history, bool f16) =>
        Pass(_checks.Attention(rows, heads, kvHeads, headDim, history, f16));

    /// <summary>
    /// The kernels as a GPU runs them (32-64 lanes, several subgroups a workgroup on this device): every
    /// workgroup reduction must then go through shared memory, never the one-subgroup shortcut.
    /// </summary>
    [Fact]
    public void GpuShapedReductionsMatchTheReference()
    {
        var gpuShapes = KernelConfig.For(gpu.Device.Info with { Type = Silk.NET.Vulkan.PhysicalDeviceType.DiscreteGpu });
        Assert.True(gpuShapes.ReduceLanes > gpu.Device.Info.MinSubgroupSize || !gpu.Device.Info.IsCpu);
        var checks = new OpChecks(gpu.Device, new Kernels(gpu.Device, gpuShapes), seed: 11);
        Pass(checks.RmsNorm(5, 896));
        Pass(checks.MatMul(1, 300, 96, TensorType.F32, MatMulVariant.RegisterTiled, norm: true, glu: true));
        Pass(checks.MatMul(5, 130, 99, TensorType.F16, MatMulVariant.RegisterTiled, norm: true));
        Pass(checks.QkvRopeStore(3, 4, 2, 128, 128, RopeMode.Neox, bias: true, qkNorm: true, f16: false));
        Pass(checks.Argmax(4, 1000));
        Pass(checks.Softmax(3, 1001, 0.7f));
    }

    /// <summary>Both attention layouts (lanes over the head dimension or over the keys), in one subgroup and in several.</summary>
    [Theory]
    [InlineData(false, 8u, 20, 8, 2, 64, 50, false)]
    [InlineData(false, 32u, 9, 6, 6, 128, 33, true)]
    [InlineData(true, 8u, 12, 14, 2, 64, 300, true)]
    [InlineData(true, 32u, 20, 8, 2, 64, 50, false)]
    [InlineData(true, 64u, 5, 4, 1, 40, 3, false)]
    [InlineData(true, 8u, 1, 1, 1, 32, 0, false)]
    public void AttentionLayouts(bool keysPerLane, uint lanes, int rows, int heads, int kvHeads, int headDim, int history, bool f16)
    {
        var kernels = new Kernels(gpu.Device, gpu.Kernels.Config with { AttentionKeysPerLane = keysPerLane, ReduceLanes = lanes });
        Pass(new OpChecks(gpu.Device, kernels, seed: 7).Attention(rows, heads, kvHeads, headDim, history, f16));
    }

    /// <summary>Attention split over key chunks and merged (GPUs), against the reference: chunks that see nothing included.</summary>
    [Theory]
    [InlineData(8u, 20, 8, 2, 64, 50, false)]
    [InlineData(32u, 12, 14, 2, 64, 300, true)]
    [InlineData(64u, 5, 4, 1, 40, 3, false)]
    [InlineData(8u, 1, 1, 1, 32, 0, false)]
    [InlineData(32u, 3, 4, 2, 128, 700, true)]
    public void SplitAttention(uint lanes, int rows, int heads, int kvHeads, int headDim, int history, bool f16)
    {
        var config = gpu.Kernels.Config with { ReduceLanes = lanes, AttentionSplitMaxChunks = 4, AttentionSplitMinChunk = 16 };
        var kernels = new Kernels(gpu.Device, config);
        Assert.True(kernels.AttentionChunk(history + rows + 3, headDim) > 0);
        Pass(new OpChecks(gpu.Device, kernels, seed: 5).Attention(rows, heads, kvHeads, headDim, history, f16));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 17)]
    [InlineData(4, 151936)]
    [InlineData(40, 1000)]
    public void Argmax(int rows, int cols) => Pass(_checks.Argmax(rows, cols));

    [Theory]
    [InlineData(1, 1, 1f)]
    [InlineData(5, 7, 0.7f)]
    [InlineData(3, 32000, 1f)]
    [InlineData(2, 1000, 2.5f)]
    public void Softmax(int rows, int cols, float temperature) => Pass(_checks.Softmax(rows, cols, temperature));

    [Fact]
    public void StandardSuiteOfTidarCheckPasses()
    {
        var failed = _checks.StandardSuite().Where(r => !r.Passed).Select(r => $"{r.Op} {r.Shape}: {r.Error:E2}").ToList();
        Assert.True(failed.Count == 0, string.Join("\n", failed));
    }
}
