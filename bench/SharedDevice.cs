using TiDAR.Engine.Kernels;
using TiDAR.Engine.Vulkan;

namespace TiDAR.Bench;

/// <summary>
/// One Vulkan device and kernel set for the whole run (the toolchain is in-process), opened by the
/// first GPU benchmark's setup. Its name feeds the Device column.
/// </summary>
public static class SharedDevice
{
    private static GpuDevice? _device;
    private static Kernels? _kernels;

    /// <summary>"name (type, driver)" of the opened device; null when no GPU benchmark ran.</summary>
    public static string? Description { get; private set; }

    public static GpuDevice Device => Open().Device;
    public static Kernels Kernels => Open().Kernels;

    private static (GpuDevice Device, Kernels Kernels) Open()
    {
        if (_device == null)
        {
            _device = GpuDevice.Open(new GpuDeviceOptions { Validation = false });
            _kernels = new Kernels(_device);
            var info = _device.Info;
            Description = $"{info.Name} ({info.TypeText}, {info.DriverName})";
            Console.WriteLine($"// Vulkan device: {Description}, API {info.ApiVersionText}, subgroup {info.SubgroupSize}");
        }
        return (_device, _kernels!);
    }

    public static void Close()
    {
        _device?.Dispose();
        _device = null;
        _kernels = null;
    }
}
