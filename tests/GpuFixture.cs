using TiDAR.Engine.Vulkan;

namespace TiDAR.Tests;

/// <summary>
/// One Vulkan device for all GPU tests, always with the Khronos validation layer on: any validation
/// message makes the submission that caused it throw, so it fails the test that caused it.
/// </summary>
public sealed class GpuFixture : IDisposable
{
    public GpuDevice Device { get; }
    public Engine.Kernels.Kernels Kernels { get; }
    public string CacheDir { get; } = Path.Combine(Path.GetTempPath(), "tidar-tests-" + Guid.NewGuid().ToString("N"));

    public GpuFixture()
    {
        Device = GpuDevice.Open(Options());
        Kernels = new Engine.Kernels.Kernels(Device);
    }

    public GpuDeviceOptions Options() => new() { Validation = true, ThrowOnValidationMessages = true, PipelineCacheDir = CacheDir };

    public void Dispose()
    {
        Device.Dispose();
        try { Directory.Delete(CacheDir, recursive: true); } catch (IOException) { }
    }
}

[CollectionDefinition("gpu")]
public sealed class GpuCollection : ICollectionFixture<GpuFixture> { }
