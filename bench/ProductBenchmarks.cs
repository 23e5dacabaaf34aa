using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using TiDAR.Engine.Gguf;
using TiDAR.Engine.Kernels;
using TiDAR.Engine.Reference;
using TiDAR.Engine.Vulkan;

namespace TiDAR.Bench;

/// <summary>
/// y [M, N] = x [M, K] * W [N, K]^T with N = K = 4096, on the Vulkan device (<see cref="Gpu"/>) and
/// with the plain C# reference on the CPU (<see cref="CpuReference"/>), for fp32, fp16 and q8_0 weights.
/// Subclasses fix M (1: the matvec kernel; 512: the many-rows kernel) and the job and columns.
/// </summary>
public abstract class ProductBenchmarks
{
    public const int N = 4096, K = 4096;
    private const int WeightSeed = 1, InputSeed = 2;

    /// <summary>Activation rows.</summary>
    protected abstract int M { get; }

    /// <summary>
    /// Weight encoding. The GPU reads W in this type (q8_0 in the engine's row-repacked layout,
    /// <see cref="Q8Rows"/>). The CPU reference has no fp16 or q8_0 path: it multiplies fp32 weights that
    /// were rounded to fp16 (or quantized to q8_0 and dequantized) once in setup, so it does fp32 work on
    /// the same values the GPU sees.
    /// </summary>
    [Params(TensorType.F32, TensorType.F16, TensorType.Q8_0)]
    public TensorType Weights { get; set; }

    private WeightMatrix? _w;
    private GpuBuffer? _x, _y;
    private CommandRecorder? _rec;
    private float[] _xCpu = [], _wCpu = [];

    [GlobalSetup(Target = nameof(Gpu))]
    public void SetupGpu()
    {
        var device = SharedDevice.Device;
        CopyBandwidth.Ensure(device);
        var x = BenchData.Values(M * K, InputSeed);
        _w = Weights == TensorType.Q8_0
            ? WeightMatrix.UploadRaw(device, Q8Rows.FromGgufBlocks(GgmlQuant.QuantizeQ8_0(BenchData.Values(N * K, WeightSeed)), N, K), N, K, TensorType.Q8_0, "bench.w")
            : WeightMatrix.Upload(device, BenchData.Values(N * K, WeightSeed), N, K, Weights, "bench.w");
        _x = device.Upload<float>(x, "bench.x");
        _y = device.Allocate((ulong)M * N * sizeof(float), "bench.y");
        // Recorded once; each benchmark invocation only submits and waits.
        _rec = new CommandRecorder(device);
        SharedDevice.Kernels.MatMul(_rec, _w, _x, _y, M);
        _rec.SubmitAndWait();
        CheckAgainstReference(device.Read<float>(_y, M * N), x);
    }

    [GlobalCleanup(Target = nameof(Gpu))]
    public void CleanupGpu()
    {
        _rec?.Dispose();
        _y?.Dispose();
        _x?.Dispose();
        _w?.Buffer.Dispose();
        _rec = null; _x = _y = null; _w = null;
    }

    [GlobalSetup(Target = nameof(CpuReference))]
    public void SetupCpu()
    {
        _xCpu = BenchData.Values(M * K, InputSeed);
        _wCpu = GpuValues();
    }

    /// <summary>The fp32 values W holds on the GPU: fp16-rounded or q8_0-dequantized for those types.</summary>
    private float[] GpuValues() => Weights switch
    {
        TensorType.F16 => BenchData.HalfRounded(N * K, WeightSeed),
        TensorType.Q8_0 => BenchData.Q8Dequantized(N * K, WeightSeed),
        _ => BenchData.Values(N * K, WeightSeed),
    };

    /// <summary>One submission of the recorded product (dispatch, barrier, fence wait).</summary>
    [Benchmark, BenchmarkCategory(BenchConfig.Gpu)]
    public void Gpu() => _rec!.SubmitAndWait();

    /// <summary>ReferenceOps.MatMul: one TensorPrimitives.Dot per output, one thread; allocates y.</summary>
    [Benchmark, BenchmarkCategory(BenchConfig.Cpu)]
    public float[] CpuReference() => ReferenceOps.MatMul(_xCpu, _wCpu, M, N, K);

    /// <summary>A wrong kernel measures nothing: compare the first and last rows with the reference.</summary>
    private void CheckAgainstReference(float[] y, float[] x)
    {
        var w = GpuValues();
        foreach (int row in new[] { 0, M - 1 }.Distinct())
        {
            var expected = ReferenceOps.MatMul(x.AsSpan(row * K, K), w, 1, N, K);
            float scale = 0, worst = 0;
            for (int j = 0; j < N; j++)
            {
                scale = Math.Max(scale, Math.Abs(expected[j]));
                worst = Math.Max(worst, Math.Abs(expected[j] - y[row * N + j]));
            }
            if (worst > 1e-4f * scale + 1e-3f)
                throw new InvalidOperationException($"GPU matmul m={M} {Weights}: row {row} differs from the reference by {worst} (max |y| {scale}).");
        }
    }

    /// <summary>Bytes of W one op reads: N rows in the weight type on the GPU, in fp32 in the CPU reference.</summary>
    public static double WeightBytesRead(BenchmarkCase c)
    {
        var type = (TensorType)c.Parameters[nameof(Weights)];
        var rowBytes = c.Descriptor.HasCategory(BenchConfig.Gpu) ? type.RowBytes(K) : TensorType.F32.RowBytes(K);
        return (double)N * rowBytes;
    }
}
