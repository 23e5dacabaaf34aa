using Silk.NET.Vulkan;

namespace TiDAR.Engine.Vulkan;

/// <summary>One memory heap of a device.</summary>
public sealed record MemoryHeapInfo(int Index, ulong Size, bool DeviceLocal, bool HostVisible);

/// <summary>
/// The properties of a physical device that decide which kernels run on it and how memory is used.
/// Read once at enumeration; nothing here needs a logical device.
/// </summary>
public sealed record DeviceInfo
{
    public required int Index { get; init; }
    public required string Name { get; init; }
    public required PhysicalDeviceType Type { get; init; }
    public required string DriverName { get; init; }
    public required string DriverInfo { get; init; }
    public required uint ApiVersion { get; init; }
    public required uint DriverVersion { get; init; }
    public required uint VendorId { get; init; }
    public required uint DeviceId { get; init; }
    public required byte[] PipelineCacheUuid { get; init; }

    public required uint SubgroupSize { get; init; }
    /// <summary>
    /// Smallest subgroup the driver may run a compute shader with (Vulkan 1.3 subgroup size control; 1 when
    /// unknown): a workgroup of at most this many lanes is always a single subgroup.
    /// </summary>
    public uint MinSubgroupSize { get; init; } = 1;
    public required SubgroupFeatureFlags SubgroupOperations { get; init; }
    public required bool SubgroupInCompute { get; init; }

    public required bool Fp16Storage { get; init; }
    public required bool Fp16Arithmetic { get; init; }
    public required bool Int8Storage { get; init; }
    public required bool Int8Arithmetic { get; init; }
    public required bool CooperativeMatrix { get; init; }

    public required uint MaxSharedMemory { get; init; }
    public required uint MaxWorkgroupInvocations { get; init; }
    public required uint MaxWorkgroupCountX { get; init; }
    public required uint MaxStorageBufferRange { get; init; }
    public required ulong MaxMemoryAllocationSize { get; init; }
    public required ulong MinStorageBufferOffsetAlignment { get; init; }
    public required uint MaxPushConstantsSize { get; init; }
    public required uint MaxBoundDescriptorSets { get; init; }

    public required int ComputeQueueFamily { get; init; }
    public required float TimestampPeriodNs { get; init; }
    public required uint TimestampValidBits { get; init; }
    public required IReadOnlyList<MemoryHeapInfo> Heaps { get; init; }

    public string ApiVersionText => $"{ApiVersion >> 22}.{(ApiVersion >> 12) & 0x3FF}.{ApiVersion & 0xFFF}";

    /// <summary>Vulkan 1.2 and a compute queue are what the engine needs.</summary>
    public bool Usable => ComputeQueueFamily >= 0 && ApiVersion >= Vk.Version12 && SubgroupInCompute
        && (SubgroupOperations & (SubgroupFeatureFlags.BasicBit | SubgroupFeatureFlags.ArithmeticBit))
            == (SubgroupFeatureFlags.BasicBit | SubgroupFeatureFlags.ArithmeticBit);

    public string? UnusableReason => ComputeQueueFamily < 0 ? "no compute queue"
        : ApiVersion < Vk.Version12 ? $"Vulkan {ApiVersionText} < 1.2"
        : !Usable ? "no subgroup arithmetic in compute shaders" : null;

    /// <summary>A CPU implementation (lavapipe, SwiftShader): wants register-tiled kernels without shared memory.</summary>
    public bool IsCpu => Type == PhysicalDeviceType.Cpu;

    public ulong DeviceLocalBytes => Heaps.Where(h => h.DeviceLocal).Select(h => h.Size).DefaultIfEmpty(0UL).Max();

    /// <summary>Preference order for automatic choice: discrete &gt; integrated &gt; virtual &gt; CPU.</summary>
    public int TypeRank => Type switch
    {
        PhysicalDeviceType.DiscreteGpu => 4,
        PhysicalDeviceType.IntegratedGpu => 3,
        PhysicalDeviceType.VirtualGpu => 2,
        PhysicalDeviceType.Cpu => 1,
        _ => 0,
    };

    public string TypeText => Type switch
    {
        PhysicalDeviceType.DiscreteGpu => "discrete GPU",
        PhysicalDeviceType.IntegratedGpu => "integrated GPU",
        PhysicalDeviceType.VirtualGpu => "virtual GPU",
        PhysicalDeviceType.Cpu => "CPU",
        _ => "other",
    };
}
