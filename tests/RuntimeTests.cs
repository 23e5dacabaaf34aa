using Silk.NET.Vulkan;
using TiDAR.Engine.Checks;
using TiDAR.Engine.Kernels;
using TiDAR.Engine.Reference;
using TiDAR.Engine.Vulkan;

namespace TiDAR.Tests;

/// <summary>The Vulkan runtime: validation, barriers, timestamps, pipeline cache, memory, errors.</summary>
[Collection("gpu")]
public sealed unsafe class RuntimeTests(GpuFixture gpu)
{
    private GpuDevice Dev => gpu.Device;

    [Fact]
    public void ValidationMessagesBecomeErrors()
    {
        // A separate instance and device, so the deliberate error cannot leak into other tests.
        using var device = GpuDevice.Open(gpu.Options() with { PipelineCacheDir = "" });
        var info = new BufferCreateInfo { SType = StructureType.BufferCreateInfo, Size = 0, Usage = BufferUsageFlags.StorageBufferBit };
        Silk.NET.Vulkan.Buffer buffer;
        device.Api.CreateBuffer(device.Handle, &info, null, &buffer); // size 0 is invalid usage
        if (buffer.Handle != 0) device.Api.DestroyBuffer(device.Handle, buffer, null);
        var e = Assert.Throws<VulkanException>(() => device.Instance.ThrowIfValidationMessages());
        Assert.Contains("validation", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(device.Instance.TakeValidationMessages());
    }

    [Fact]
    public void RecorderInsertsBarriersOnlyForDataFlow()
    {
        const int n = 64, k = 32;
        var checks = new OpChecks(Dev, gpu.Kernels, 7);
        var x = checks.RandomFloats(k);
        var wv = checks.RandomFloats(n * k);
        var w = WeightMatrix.Upload(Dev, wv, n, k, TensorType.F32, "w");
        using var wOwner = w.Buffer;
        using var xb = Dev.Upload<float>(x, "x");
        using var y1 = Dev.Allocate(n * 4, "y1");
        using var y2 = Dev.Allocate(n * 4, "y2");
        using var sum = Dev.Allocate(n * 4, "sum");
        using var norm = Dev.Upload<float>(Enumerable.Repeat(1f, k).ToArray(), "norm-w");
        using var rec = new CommandRecorder(Dev);
        gpu.Kernels.MatMul(rec, w, xb, y1, 1);
        gpu.Kernels.MatMul(rec, w, xb, y2, 1);            // independent of the first: no barrier
        Assert.Equal(0, rec.Barriers);
        gpu.Kernels.Add(rec, y1, y2, sum, n);             // reads both results: one barrier
        Assert.Equal(1, rec.Barriers);
        gpu.Kernels.RmsNorm(rec, xb, norm, xb, 1, k, 1e-6f); // writes x, unrelated to the add since the barrier: none
        Assert.Equal(1, rec.Barriers);
        gpu.Kernels.MatMul(rec, w, xb, y1, 1);            // reads the normed x and rewrites y1 (read by the add): barrier
        Assert.Equal(2, rec.Barriers);
        rec.SubmitAndWait();

        var y = ReferenceOps.MatMul(x, wv, 1, n, k);
        var expectedSum = ReferenceOps.Add(y, y);
        Assert.True(ReferenceOps.NormalizedError(Dev.Read<float>(sum, n), expectedSum) < 1e-5);
        var normed = ReferenceOps.RmsNorm(x, Enumerable.Repeat(1f, k).ToArray(), 1, k, 1e-6f);
        Assert.True(ReferenceOps.NormalizedError(Dev.Read<float>(y1, n), ReferenceOps.MatMul(normed, wv, 1, n, k)) < 1e-5);
    }

    [Theory]
    [InlineData(1, MatMulVariant.RegisterTiled)]
    [InlineData(5, MatMulVariant.RegisterTiled)]
    [InlineData(70, MatMulVariant.SharedTiled)]
    [InlineData(1, MatMulVariant.RowPerLane)]
    [InlineData(9, MatMulVariant.RowPerLane)]
    public void SplitMatMulFillsSeparateBlocks(int m, MatMulVariant variant)
    {
        // [Wa; Wb; Wc] in one product, written as three row-major blocks of one buffer.
        const int k = 64, a = 40, b = 24, c = 24;
        var checks = new OpChecks(Dev, gpu.Kernels, 9);
        var x = checks.RandomFloats(m * k);
        var wv = checks.RandomFloats((a + b + c) * k);
        var w = WeightMatrix.Upload(Dev, wv, a + b + c, k, TensorType.F32, "w");
        using var owner = w.Buffer;
        using var xb = Dev.Upload<float>(x, "x");
        long base1 = m * a + 4, base2 = base1 + m * b + 4;
        using var y = Dev.Allocate((ulong)(base2 + m * c) * 4, "y");
        using var rec = new CommandRecorder(Dev);
        gpu.Kernels.MatMul(rec, w, xb, y, m, variant, split: new MatMulSplit(a, a + b, base1, base2));
        rec.SubmitAndWait();
        var all = Dev.Read<float>(y, (int)(base2 + m * c));
        var full = ReferenceOps.MatMul(x, wv, m, a + b + c, k);
        for (int r = 0; r < m; r++)
            for (int col = 0; col < a + b + c; col++)
            {
                long at = col < a ? r * a + col : col < a + b ? base1 + r * b + (col - a) : base2 + r * c + (col - a - b);
                Assert.True(Math.Abs(all[at] - full[r * (a + b + c) + col]) < 1e-4, $"row {r} col {col}");
            }
    }

    [Fact]
    public void RecordingCanBeSubmittedRepeatedly()
    {
        using var a = Dev.Upload<float>(new[] { 1f, 2f, 3f }, "a");
        using var b = Dev.Upload<float>(new[] { 10f, 20f, 30f }, "b");
        using var rec = new CommandRecorder(Dev);
        gpu.Kernels.Add(rec, a, b, a, 3); // a += b, in place
        rec.SubmitAndWait();
        rec.SubmitAndWait();
        Assert.Equal(new[] { 21f, 42f, 63f }, Dev.Read<float>(a, 3));
    }

    [Fact]
    public void ARecorderResetRecordsAnewAndReusesItsDescriptorPools()
    {
        // 700 dispatches a recording: more than one descriptor pool holds (512 sets), before and after a reset.
        using var a = Dev.Upload<float>(new[] { 0f, 0f }, "a");
        using var one = Dev.Upload<float>(new[] { 1f, 2f }, "one");
        using var rec = new CommandRecorder(Dev, timing: true);
        for (int i = 0; i < 700; i++) gpu.Kernels.Add(rec, a, one, a, 2);
        rec.SubmitAndWait();
        Assert.Equal(new[] { 700f, 1400f }, Dev.Read<float>(a, 2));
        rec.Reset();
        Assert.Equal(0, rec.Dispatches);
        for (int i = 0; i < 600; i++) gpu.Kernels.Add(rec, a, one, a, 2);
        rec.SubmitAndWait();
        Assert.Equal(new[] { 1300f, 2600f }, Dev.Read<float>(a, 2));
        Assert.Equal(600, rec.ReadTimings().Count);
        // A reset also discards a recording that was never submitted.
        rec.Reset();
        gpu.Kernels.Add(rec, a, one, a, 2);
        rec.Reset();
        gpu.Kernels.Add(rec, a, a, a, 2);   // a += a
        rec.SubmitAndWait();
        Assert.Equal(new[] { 2600f, 5200f }, Dev.Read<float>(a, 2));
    }

    [Fact]
    public void TimestampsGiveOneTimePerCommand()
    {
        using var x = Dev.Upload<float>(new float[4096], "x");
        using var w = Dev.Upload<float>(Enumerable.Repeat(1f, 4096).ToArray(), "w");
        using var rec = new CommandRecorder(Dev, timing: true);
        Assert.True(rec.Timing, "lavapipe and all GPUs we target have compute timestamps");
        gpu.Kernels.RmsNorm(rec, x, w, x, 4, 1024, 1e-6f);
        gpu.Kernels.Softmax(rec, x, x, 4, 1024);
        rec.SubmitAndWait();
        var t = rec.ReadTimings();
        Assert.Equal(2, t.Count);
        Assert.StartsWith("rmsnorm", t[0].Label);
        Assert.StartsWith("softmax", t[1].Label);
        Assert.All(t, d => Assert.InRange(d.Milliseconds, 0, 10_000));
    }

    [Fact]
    public void PipelineCacheIsKeptOnDiskAndBadFilesAreIgnored()
    {
        var dir = Path.Combine(gpu.CacheDir, "cache-test");
        var options = gpu.Options() with { PipelineCacheDir = dir };
        string file;
        using (var first = GpuDevice.Open(options))
        {
            Assert.False(first.Pipelines.LoadedFromDisk);
            new OpChecks(first).RmsNorm(3, 33);
            file = first.Pipelines.CacheFile!;
        }
        Assert.True(File.Exists(file));
        using (var second = GpuDevice.Open(options))
        {
            Assert.True(second.Pipelines.LoadedFromDisk);
            Assert.True(new OpChecks(second).RmsNorm(3, 33).Passed);
        }
        File.WriteAllBytes(file, Enumerable.Range(0, 200).Select(i => (byte)(i * 37)).ToArray());
        using (var third = GpuDevice.Open(options))
        {
            Assert.False(third.Pipelines.LoadedFromDisk);
            Assert.True(new OpChecks(third).RmsNorm(3, 33).Passed);
        }
    }

    [Fact]
    public void SubAllocationsAreAlignedDisjointAndReused()
    {
        var sizes = new ulong[] { 4, 100, 17, 4096, 3, 1 << 20 };
        var buffers = sizes.Select((s, i) => Dev.Allocate(s, $"b{i}")).ToList();
        try
        {
            foreach (var b in buffers) Assert.Equal(0UL, b.Offset % Dev.Info.MinStorageBufferOffsetAlignment);
            foreach (var a in buffers)
                foreach (var b in buffers)
                    if (a != b && a.Handle.Handle == b.Handle.Handle)
                        Assert.True(a.Offset + a.Size <= b.Offset || b.Offset + b.Size <= a.Offset, $"{a} overlaps {b}");
            var freedOffset = buffers[3].Offset;
            var freedHandle = buffers[3].Handle.Handle;
            buffers[3].Dispose();
            buffers[3] = Dev.Allocate(4096, "again");
            Assert.Equal(freedOffset, buffers[3].Offset);
            Assert.Equal(freedHandle, buffers[3].Handle.Handle);
        }
        finally { foreach (var b in buffers) b.Dispose(); }
    }

    [Fact]
    public void TooLargeAllocationNamesTheSizeAndTheLimit()
    {
        ulong size = Dev.Info.MaxMemoryAllocationSize + 4096;
        var e = Assert.Throws<VulkanException>(() => Dev.Allocate(size, "huge"));
        Assert.Contains(size.ToString(), e.Message);
        Assert.Contains("maxMemoryAllocationSize", e.Message);
    }

    [Fact]
    public void OutOfDeviceMemoryIsExplained()
    {
        var e = new VulkanException("vkAllocateMemory", Result.ErrorOutOfDeviceMemory, "asked for 1073741824 bytes");
        Assert.Contains("vkAllocateMemory", e.Message);
        Assert.Contains("no memory left", e.Message);
        Assert.Contains("1073741824", e.Message);
    }

    [Fact]
    public void BindingPastMaxStorageBufferRangeIsRefused()
    {
        ulong big = (ulong)Dev.Info.MaxStorageBufferRange + 1024;
        using var x = Dev.Allocate(big, "too-big");
        using var w = Dev.Allocate(4096, "w");
        using var rec = new CommandRecorder(Dev);
        var e = Assert.Throws<ArgumentException>(() => gpu.Kernels.RmsNorm(rec, x, w, x, 1, 1024, 1e-6f));
        Assert.Contains("maxStorageBufferRange", e.Message);
    }

    [Fact]
    public void MatVecOverAMatrixLargerThanOneBindingRunsInChunks()
    {
        int k = 4096;
        int n = (int)(Dev.Info.MaxStorageBufferRange / (ulong)(k * 4)) + 300; // just past one binding
        var checks = new OpChecks(Dev, gpu.Kernels, 3);
        var r = checks.MatMul(1, n, k, TensorType.F32);
        Assert.True(r.Passed, $"error {r.Error:E2}");
    }

    [Fact]
    public void StagingCopiesWorkWhereDeviceMemoryIsNotMapped()
    {
        using var device = GpuDevice.Open(gpu.Options() with { ForceStagingCopies = true, PipelineCacheDir = "" });
        if (device.Allocator.DeviceMemoryIsHostVisible) return; // the device offers no unmapped device-local type
        using (var b = device.Allocate(16, "probe")) Assert.False(b.HostVisible);
        var checks = new OpChecks(device);
        Assert.True(checks.MatMul(5, 33, 64, TensorType.F16).Passed);
        Assert.True(checks.Attention(6, 4, 2, 32, 9, f16: true).Passed);
        Assert.True(checks.Argmax(2, 300).Passed);
    }

    [Fact]
    public void UndersizedBuffersAreRejectedBeforeTheGpuSeesThem()
    {
        using var x = Dev.Allocate(64, "x");
        using var w = Dev.Allocate(64, "w");
        using var rec = new CommandRecorder(Dev);
        var e = Assert.Throws<ArgumentException>(() => gpu.Kernels.RmsNorm(rec, x, w, x, 2, 16, 1e-6f));
        Assert.Contains("needs 128 bytes", e.Message);
        Assert.Throws<ArgumentException>(() => gpu.Kernels.Attention(rec, x, x, x, x, x, 1, 3, 2, 8, 1, 1f, false));
        Assert.Throws<ArgumentException>(() => gpu.Kernels.Rope(rec, x, x, 1, 1, 8, 3, 10000f, RopeMode.Neox));
    }

    [Fact]
    public void DeviceChoiceRejectsBadIndices()
    {
        using var instance = new VulkanInstance(validation: false);
        var e = Assert.Throws<ArgumentException>(() => instance.Choose(99));
        Assert.Contains("does not exist", e.Message);
        var chosen = instance.Choose();
        Assert.True(chosen.Usable);
        Assert.Equal(instance.Devices.Where(d => d.Usable).Max(d => d.TypeRank), chosen.TypeRank);
        var old = Environment.GetEnvironmentVariable("TIDAR_DEVICE");
        try
        {
            Environment.SetEnvironmentVariable("TIDAR_DEVICE", "abc");
            Assert.Contains("TIDAR_DEVICE", Assert.Throws<ArgumentException>(() => instance.Choose()).Message);
            Environment.SetEnvironmentVariable("TIDAR_DEVICE", chosen.Index.ToString());
            Assert.Equal(chosen.Index, instance.Choose().Index);
        }
        finally { Environment.SetEnvironmentVariable("TIDAR_DEVICE", old); }
    }

    [Fact]
    public void DevicePropertiesThatChooseKernelsAreRead()
    {
        var d = Dev.Info;
        Assert.True(d.SubgroupSize >= 1);
        Assert.True(d.MaxStorageBufferRange >= 1 << 20);
        Assert.True(d.MaxMemoryAllocationSize >= d.MaxStorageBufferRange);
        Assert.NotEmpty(d.Heaps);
        Assert.True(d.MaxSharedMemory >= 16384);
        var config = KernelConfig.For(d);
        Assert.Equal(d.IsCpu ? MatMulVariant.RowPerLane : MatMulVariant.SharedTiled, config.ManyRowsVariant);
        Assert.Equal(d.IsCpu ? MatMulVariant.RowPerLane : MatMulVariant.RegisterTiled, config.FewRowsVariant);
    }
}
