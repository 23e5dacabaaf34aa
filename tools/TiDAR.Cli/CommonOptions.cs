using System.CommandLine;
using TiDAR.Engine.Vulkan;

namespace TiDAR.Cli;

/// <summary>Options every command accepts, and the one place that turns engine errors into messages.</summary>
internal static class CommonOptions
{
    public static readonly Option<int?> Device = new("--device")
    {
        Description = "Vulkan device index from `tidar devices` (default: TIDAR_DEVICE, else the best device)",
        Recursive = true,
    };

    public static readonly Option<bool> Validation = new("--validation")
    {
        Description = "Turn on the Khronos validation layer (same as TIDAR_VALIDATION=1)",
        Recursive = true,
    };

    public static GpuDeviceOptions DeviceOptions(ParseResult parse) => new()
    {
        DeviceIndex = parse.GetValue(Device),
        Validation = parse.GetValue(Validation) ? true : null,
        ThrowOnValidationMessages = false,
    };

    /// <summary>
    /// Runs a command body; a failure prints one line naming the problem and exits 1 instead of a stack
    /// trace (TIDAR_DEBUG=1 adds the trace for bug reports).
    /// </summary>
    public static int Guard(Func<int> body)
    {
        try { return body(); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            if (Environment.GetEnvironmentVariable("TIDAR_DEBUG") == "1") Console.Error.WriteLine(e);
            return 1;
        }
    }
}
