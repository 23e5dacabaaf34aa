using Silk.NET.Vulkan;

namespace TiDAR.Engine.Vulkan;

/// <summary>Where a buffer lives: device memory for tensors, or host memory for staging copies.</summary>
public enum MemoryKind { Device, Staging }

/// <summary>
/// Sub-allocates buffers from large blocks at the device's storage-buffer alignment. Uses device-local
/// memory the CPU can map directly when the device offers enough of it (UMA, ReBAR, CPU drivers), so
/// uploads are plain copies; otherwise device-only memory filled through staging buffers.
/// </summary>
public sealed class MemoryAllocator : IDisposable
{
    /// <summary>Size of a shared block; larger buffers get a block of their own.</summary>
    public const ulong DefaultBlockSize = 256UL << 20;

    private readonly GpuDevice _device;
    private readonly List<MemoryBlock> _deviceBlocks = new();
    private readonly List<MemoryBlock> _stagingBlocks = new();
    private readonly object _lock = new();
    private readonly uint _deviceType;
    private readonly uint _stagingType;
    private readonly ulong _alignment;
    private readonly ulong _blockSize;

    /// <summary>True when device buffers are mapped, so no staging copies are needed.</summary>
    public bool DeviceMemoryIsHostVisible { get; }
    public ulong BytesReserved { get; private set; }

    internal MemoryAllocator(GpuDevice device, PhysicalDeviceMemoryProperties mem, bool forceStaging)
    {
        _device = device;
        var info = device.Info;
        // 16 covers vec4 loads of fp32 data even where the device would allow a smaller alignment.
        _alignment = Math.Max(info.MinStorageBufferOffsetAlignment, 16);
        _blockSize = Math.Min(DefaultBlockSize, info.MaxMemoryAllocationSize);

        const MemoryPropertyFlags deviceLocal = MemoryPropertyFlags.DeviceLocalBit;
        const MemoryPropertyFlags hostVisible = MemoryPropertyFlags.HostVisibleBit | MemoryPropertyFlags.HostCoherentBit;
        ulong largestDeviceHeap = info.DeviceLocalBytes;

        int mappable = FindType(mem, deviceLocal | hostVisible, t => mem.MemoryHeaps[(int)mem.MemoryTypes[t].HeapIndex].Size * 4 >= largestDeviceHeap * 3);
        int plain = FindType(mem, deviceLocal, _ => true);
        int staging = FindType(mem, hostVisible | MemoryPropertyFlags.HostCachedBit, _ => true);
        if (staging < 0) staging = FindType(mem, hostVisible, _ => true);
        if (forceStaging && plain >= 0) _deviceType = (uint)plain;
        else if (mappable >= 0) { _deviceType = (uint)mappable; DeviceMemoryIsHostVisible = true; }
        else if (plain >= 0) _deviceType = (uint)plain;
        else if (staging >= 0) { _deviceType = (uint)staging; DeviceMemoryIsHostVisible = true; }
        else throw new VulkanException($"Device {info.Name} exposes no usable memory type.");
        if (staging < 0) throw new VulkanException($"Device {info.Name} exposes no host-visible memory for uploads.");
        _stagingType = (uint)staging;
    }

    private static int FindType(PhysicalDeviceMemoryProperties mem, MemoryPropertyFlags flags, Func<int, bool> accept)
    {
        for (int t = 0; t < mem.MemoryTypeCount; t++)
            if ((mem.MemoryTypes[t].PropertyFlags & flags) == flags && accept(t)) return t;
        return -1;
    }

    public GpuBuffer Allocate(ulong size, string name, MemoryKind kind = MemoryKind.Device)
    {
        if (size > _device.Info.MaxMemoryAllocationSize)
            throw new VulkanException($"Buffer '{name}' needs {size} bytes, more than this device's maxMemoryAllocationSize ({_device.Info.MaxMemoryAllocationSize} bytes); split the tensor.");
        // Whole 32-bit words: shaders read fp16 data as packed uints, so the last word must be in range.
        size = MemoryBlock.AlignUp(Math.Max(size, 4), 4);
        bool staging = kind == MemoryKind.Staging;
        var blocks = staging ? _stagingBlocks : _deviceBlocks;
        uint type = staging ? _stagingType : _deviceType;
        bool map = staging || DeviceMemoryIsHostVisible;
        lock (_lock)
        {
            if (size > _blockSize / 2)
                return NewBlock(blocks, MemoryBlock.AlignUp(size, _alignment), type, map, dedicated: true).TryAllocate(size, name)!;
            foreach (var block in blocks)
                if (!block.Dedicated && block.TryAllocate(size, name) is { } b) return b;
            return NewBlock(blocks, _blockSize, type, map, dedicated: false).TryAllocate(size, name)
                ?? throw new VulkanException($"Buffer '{name}' of {size} bytes does not fit a fresh block.");
        }
    }

    private MemoryBlock NewBlock(List<MemoryBlock> blocks, ulong size, uint type, bool map, bool dedicated)
    {
        var block = new MemoryBlock(_device, size, type, map, _alignment, dedicated);
        blocks.Add(block);
        BytesReserved += size;
        return block;
    }

    /// <summary>Frees a dedicated block once its only buffer is gone.</summary>
    internal void Release(MemoryBlock block)
    {
        lock (_lock)
        {
            if (_deviceBlocks.Remove(block) || _stagingBlocks.Remove(block))
            {
                BytesReserved -= block.Capacity;
                block.Dispose();
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var b in _deviceBlocks.Concat(_stagingBlocks)) b.Dispose();
            _deviceBlocks.Clear();
            _stagingBlocks.Clear();
        }
    }
}
