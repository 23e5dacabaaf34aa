using Silk.NET.Vulkan;

namespace TiDAR.Engine.Vulkan;

/// <summary>A failed Vulkan call: names the call, the result code and what that code means.</summary>
public sealed class VulkanException : Exception
{
    public Result Result { get; }
    public string Call { get; }

    public VulkanException(string call, Result result, string? detail = null)
        : base($"{call} failed: {result} ({Explain(result)}){(detail is null ? "" : ". " + detail)}")
    {
        Call = call;
        Result = result;
    }

    public VulkanException(string message) : base(message)
    {
        Call = "";
        Result = Result.Success;
    }

    /// <summary>Throws when <paramref name="result"/> is an error; success codes (including VK_INCOMPLETE etc.) pass.</summary>
    public static void Check(Result result, string call, string? detail = null)
    {
        if ((int)result < 0) throw new VulkanException(call, result, detail);
    }

    public static string Explain(Result result) => result switch
    {
        Result.ErrorOutOfHostMemory => "the driver ran out of host (CPU) memory",
        Result.ErrorOutOfDeviceMemory => "the device has no memory left for this request",
        Result.ErrorInitializationFailed => "the driver could not initialise",
        Result.ErrorDeviceLost => "the device was lost (driver crash, GPU reset or a shader that ran too long)",
        Result.ErrorMemoryMapFailed => "mapping device memory into the process failed",
        Result.ErrorLayerNotPresent => "a requested layer is not installed",
        Result.ErrorExtensionNotPresent => "a requested extension is not supported",
        Result.ErrorFeatureNotPresent => "a requested device feature is not supported",
        Result.ErrorIncompatibleDriver => "no compatible Vulkan driver (ICD) was found; install one, e.g. mesa-vulkan-drivers",
        Result.ErrorTooManyObjects => "too many objects of this type were created",
        Result.ErrorFormatNotSupported => "format not supported",
        Result.ErrorFragmentedPool => "the pool is fragmented",
        Result.ErrorOutOfPoolMemory => "the descriptor pool is exhausted",
        Result.ErrorInvalidExternalHandle => "invalid external handle",
        Result.ErrorFragmentation => "memory is too fragmented for this allocation",
        Result.ErrorUnknown => "unknown driver error",
        Result.Timeout => "timed out",
        _ => "see the Vulkan specification for this code",
    };
}
