using Silk.NET.Core.Native;
using Silk.NET.Vulkan;

namespace TiDAR.Engine.Vulkan;

/// <summary>Reads a physical device's properties, features and memory into a <see cref="DeviceInfo"/>.</summary>
internal static unsafe class DeviceQuery
{
    public static DeviceInfo Read(Vk vk, PhysicalDevice device, int index)
    {
        vk.GetPhysicalDeviceProperties(device, out PhysicalDeviceProperties basic);
        bool is12 = basic.ApiVersion >= Vk.Version12;
        bool is13 = basic.ApiVersion >= Vk.Version13;
        // Driver properties are core only from Vulkan 1.2; leave them out of the chain before that.
        // Subgroup size control (core in 1.3) gives the smallest subgroup the driver may pick for a shader.
        var sizeControl = new PhysicalDeviceSubgroupSizeControlProperties { SType = StructureType.PhysicalDeviceSubgroupSizeControlProperties };
        var driver = new PhysicalDeviceDriverProperties { SType = StructureType.PhysicalDeviceDriverProperties, PNext = is13 ? &sizeControl : null };
        var maintenance3 = new PhysicalDeviceMaintenance3Properties { SType = StructureType.PhysicalDeviceMaintenance3Properties, PNext = is12 ? &driver : null };
        var subgroup = new PhysicalDeviceSubgroupProperties { SType = StructureType.PhysicalDeviceSubgroupProperties, PNext = &maintenance3 };
        var props2 = new PhysicalDeviceProperties2 { SType = StructureType.PhysicalDeviceProperties2, PNext = &subgroup };
        vk.GetPhysicalDeviceProperties2(device, &props2);
        var p = props2.Properties;

        var f12 = new PhysicalDeviceVulkan12Features { SType = StructureType.PhysicalDeviceVulkan12Features };
        var f11 = new PhysicalDeviceVulkan11Features { SType = StructureType.PhysicalDeviceVulkan11Features, PNext = &f12 };
        var features2 = new PhysicalDeviceFeatures2 { SType = StructureType.PhysicalDeviceFeatures2, PNext = &f11 };
        if (is12) vk.GetPhysicalDeviceFeatures2(device, &features2);

        vk.GetPhysicalDeviceMemoryProperties(device, out var mem);
        var heaps = new List<MemoryHeapInfo>();
        for (int h = 0; h < mem.MemoryHeapCount; h++)
        {
            bool hostVisible = false;
            for (int t = 0; t < mem.MemoryTypeCount; t++)
                if (mem.MemoryTypes[t].HeapIndex == h && mem.MemoryTypes[t].PropertyFlags.HasFlag(MemoryPropertyFlags.HostVisibleBit))
                    hostVisible = true;
            heaps.Add(new MemoryHeapInfo(h, mem.MemoryHeaps[h].Size, mem.MemoryHeaps[h].Flags.HasFlag(MemoryHeapFlags.DeviceLocalBit), hostVisible));
        }

        uint qCount = 0;
        vk.GetPhysicalDeviceQueueFamilyProperties(device, &qCount, null);
        var families = new QueueFamilyProperties[qCount];
        fixed (QueueFamilyProperties* q = families) vk.GetPhysicalDeviceQueueFamilyProperties(device, &qCount, q);
        int computeFamily = -1;
        for (int i = 0; i < families.Length; i++)
        {
            if (!families[i].QueueFlags.HasFlag(QueueFlags.ComputeBit)) continue;
            if (computeFamily < 0 || (families[computeFamily].TimestampValidBits == 0 && families[i].TimestampValidBits > 0))
                computeFamily = i;
        }

        var extensions = DeviceExtensions(vk, device);
        var uuid = new byte[16];
        for (int i = 0; i < 16; i++) uuid[i] = p.PipelineCacheUuid[i];

        return new DeviceInfo
        {
            Index = index,
            Name = SilkMarshal.PtrToString((nint)p.DeviceName) ?? "(unnamed)",
            Type = p.DeviceType,
            DriverName = is12 ? SilkMarshal.PtrToString((nint)driver.DriverName) ?? "" : "",
            DriverInfo = is12 ? SilkMarshal.PtrToString((nint)driver.DriverInfo) ?? "" : "",
            ApiVersion = p.ApiVersion,
            DriverVersion = p.DriverVersion,
            VendorId = p.VendorID,
            DeviceId = p.DeviceID,
            PipelineCacheUuid = uuid,
            SubgroupSize = subgroup.SubgroupSize,
            MinSubgroupSize = is13 && sizeControl.MinSubgroupSize > 0 ? sizeControl.MinSubgroupSize : 1,
            SubgroupOperations = subgroup.SupportedOperations,
            SubgroupInCompute = subgroup.SupportedStages.HasFlag(ShaderStageFlags.ComputeBit),
            Fp16Storage = f11.StorageBuffer16BitAccess,
            Fp16Arithmetic = f12.ShaderFloat16,
            Int8Storage = f12.StorageBuffer8BitAccess,
            Int8Arithmetic = f12.ShaderInt8,
            CooperativeMatrix = extensions.Contains("VK_KHR_cooperative_matrix") || extensions.Contains("VK_NV_cooperative_matrix"),
            MaxSharedMemory = p.Limits.MaxComputeSharedMemorySize,
            MaxWorkgroupInvocations = p.Limits.MaxComputeWorkGroupInvocations,
            MaxWorkgroupCountX = p.Limits.MaxComputeWorkGroupCount[0],
            MaxStorageBufferRange = p.Limits.MaxStorageBufferRange,
            MaxMemoryAllocationSize = maintenance3.MaxMemoryAllocationSize,
            MinStorageBufferOffsetAlignment = p.Limits.MinStorageBufferOffsetAlignment,
            MaxPushConstantsSize = p.Limits.MaxPushConstantsSize,
            MaxBoundDescriptorSets = p.Limits.MaxBoundDescriptorSets,
            ComputeQueueFamily = computeFamily,
            TimestampPeriodNs = p.Limits.TimestampPeriod,
            TimestampValidBits = computeFamily >= 0 ? families[computeFamily].TimestampValidBits : 0,
            Heaps = heaps,
        };
    }

    public static HashSet<string> DeviceExtensions(Vk vk, PhysicalDevice device)
    {
        uint count = 0;
        vk.EnumerateDeviceExtensionProperties(device, (byte*)null, &count, null);
        var props = new ExtensionProperties[count];
        fixed (ExtensionProperties* e = props) vk.EnumerateDeviceExtensionProperties(device, (byte*)null, &count, e);
        return props.Select(e => SilkMarshal.PtrToString((nint)e.ExtensionName) ?? "").ToHashSet();
    }
}
