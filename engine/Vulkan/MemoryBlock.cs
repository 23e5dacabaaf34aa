using Silk.NET.Vulkan;
using Buffer = Silk.NET.Vulkan.Buffer;

namespace TiDAR.Engine.Vulkan;

/// <summary>
/// One VkDeviceMemory with one VkBuffer over all of it, carved into <see cref="GpuBuffer"/> ranges by
/// first fit. Few large allocations keep us far below maxMemoryAllocationCount and let one descriptor
/// buffer handle serve every tensor of a block.
/// </summary>
internal sealed unsafe class MemoryBlock : IDisposable
{
    private readonly GpuDevice _device;
    private readonly ulong _alignment;
    // Free ranges, sorted by offset and coalesced on free: (offset, size).
    private readonly List<(ulong Offset, ulong Size)> _free = new();
    private readonly object _lock = new();

    public DeviceMemory Memory { get; }
    public Buffer Buffer { get; }
    public ulong Capacity { get; }
    public byte* Mapped { get; }
    public bool Dedicated { get; }
    public int LiveAllocations { get; private set; }

    public MemoryBlock(GpuDevice device, ulong capacity, uint memoryType, bool map, ulong alignment, bool dedicated)
    {
        _device = device;
        _alignment = alignment;
        Capacity = capacity;
        Dedicated = dedicated;
        var vk = device.Api;

        var bufferInfo = new BufferCreateInfo
        {
            SType = StructureType.BufferCreateInfo,
            Size = capacity,
            Usage = BufferUsageFlags.StorageBufferBit | BufferUsageFlags.TransferSrcBit | BufferUsageFlags.TransferDstBit,
            SharingMode = SharingMode.Exclusive,
        };
        Buffer buffer;
        VulkanException.Check(vk.CreateBuffer(device.Handle, &bufferInfo, null, &buffer), "vkCreateBuffer", $"size {capacity} bytes");
        Buffer = buffer;
        vk.GetBufferMemoryRequirements(device.Handle, buffer, out var req);
        if ((req.MemoryTypeBits & (1u << (int)memoryType)) == 0)
        {
            vk.DestroyBuffer(device.Handle, buffer, null);
            throw new VulkanException($"Memory type {memoryType} cannot back a storage buffer on this device.");
        }

        var alloc = new MemoryAllocateInfo { SType = StructureType.MemoryAllocateInfo, AllocationSize = req.Size, MemoryTypeIndex = memoryType };
        DeviceMemory memory;
        var result = vk.AllocateMemory(device.Handle, &alloc, null, &memory);
        if ((int)result < 0)
        {
            vk.DestroyBuffer(device.Handle, buffer, null);
            throw new VulkanException("vkAllocateMemory", result,
                $"asked for {req.Size} bytes ({req.Size / (1024.0 * 1024.0):F1} MiB) of memory type {memoryType}; in use on this device: {device.Allocator.BytesReserved} bytes");
        }
        Memory = memory;
        VulkanException.Check(vk.BindBufferMemory(device.Handle, buffer, memory, 0), "vkBindBufferMemory");
        if (map)
        {
            void* ptr;
            VulkanException.Check(vk.MapMemory(device.Handle, memory, 0, Vk.WholeSize, 0, &ptr), "vkMapMemory", $"{req.Size} bytes");
            Mapped = (byte*)ptr;
        }
        _free.Add((0, capacity));
    }

    public ulong FreeBytes { get { lock (_lock) return _free.Aggregate(0UL, (s, f) => s + f.Size); } }

    public GpuBuffer? TryAllocate(ulong size, string name)
    {
        if (size == 0) size = 1;
        lock (_lock)
        {
            for (int i = 0; i < _free.Count; i++)
            {
                var (off, len) = _free[i];
                ulong start = AlignUp(off, _alignment);
                ulong end = start + size;
                if (end > off + len) continue;
                _free.RemoveAt(i);
                // Keep both leftovers: the alignment gap before and the tail after.
                if (end < off + len) _free.Insert(i, (end, off + len - end));
                if (start > off) _free.Insert(i, (off, start - off));
                LiveAllocations++;
                return new GpuBuffer(this, start, size, name);
            }
        }
        return null;
    }

    public void Free(GpuBuffer buffer)
    {
        lock (_lock)
        {
            ulong off = buffer.Offset, len = buffer.Size;
            int i = 0;
            while (i < _free.Count && _free[i].Offset < off) i++;
            _free.Insert(i, (off, len));
            // Coalesce with the next and the previous free range.
            if (i + 1 < _free.Count && _free[i].Offset + _free[i].Size == _free[i + 1].Offset)
            {
                _free[i] = (_free[i].Offset, _free[i].Size + _free[i + 1].Size);
                _free.RemoveAt(i + 1);
            }
            if (i > 0 && _free[i - 1].Offset + _free[i - 1].Size == _free[i].Offset)
            {
                _free[i - 1] = (_free[i - 1].Offset, _free[i - 1].Size + _free[i].Size);
                _free.RemoveAt(i);
            }
            LiveAllocations--;
        }
        if (LiveAllocations == 0 && Dedicated) _device.Allocator.Release(this);
    }

    internal static ulong AlignUp(ulong v, ulong a) => (v + a - 1) / a * a;

    public void Dispose()
    {
        var vk = _device.Api;
        if (Mapped != null) vk.UnmapMemory(_device.Handle, Memory);
        vk.DestroyBuffer(_device.Handle, Buffer, null);
        vk.FreeMemory(_device.Handle, Memory, null);
    }
}
