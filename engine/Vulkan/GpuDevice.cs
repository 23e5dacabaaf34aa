using System.Runtime.InteropServices;
using Silk.NET.Core.Native;
using Silk.NET.Vulkan;

namespace TiDAR.Engine.Vulkan;

/// <summary>Options for opening a device.</summary>
public sealed record GpuDeviceOptions
{
    /// <summary>Device index (from --device); null = TIDAR_DEVICE or the automatic choice.</summary>
    public int? DeviceIndex { get; init; }
    /// <summary>Khronos validation layer; null = TIDAR_VALIDATION.</summary>
    public bool? Validation { get; init; }
    /// <summary>Throw after a submission when the validation layer said anything (tests).</summary>
    public bool ThrowOnValidationMessages { get; init; } = true;
    /// <summary>Folder of the on-disk VkPipelineCache; null = $XDG_CACHE_HOME/tidar or ~/.cache/tidar; "" = none.</summary>
    public string? PipelineCacheDir { get; init; }
    /// <summary>How long one submission may run before it is reported as hung.</summary>
    public TimeSpan SubmitTimeout { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>Treat device memory as not host-visible, so every upload and read goes through staging copies
    /// (how discrete GPUs without ReBAR work); lets tests cover that path on UMA and CPU devices.</summary>
    public bool ForceStagingCopies { get; init; }
}

/// <summary>
/// An open Vulkan device: logical device, one compute queue, command pool, memory allocator and
/// pipeline cache. Not thread-safe: one recorder submits at a time.
/// </summary>
public sealed unsafe class GpuDevice : IDisposable
{
    private readonly bool _ownsInstance;
    public VulkanInstance Instance { get; }
    public Vk Api => Instance.Api;
    public DeviceInfo Info { get; }
    public Device Handle { get; }
    public Queue Queue { get; }
    public CommandPool CommandPool { get; }
    public MemoryAllocator Allocator { get; }
    public PipelineCache Pipelines { get; }
    public GpuDeviceOptions Options { get; }
    public bool ThrowOnValidationMessages { get; }

    public static GpuDevice Open(GpuDeviceOptions? options = null)
    {
        options ??= new GpuDeviceOptions();
        var instance = new VulkanInstance(options.Validation ?? VulkanInstance.ValidationRequestedByEnvironment);
        try { return new GpuDevice(instance, instance.Choose(options.DeviceIndex), options, ownsInstance: true); }
        catch { instance.Dispose(); throw; }
    }

    public GpuDevice(VulkanInstance instance, DeviceInfo info, GpuDeviceOptions options, bool ownsInstance = false)
    {
        Instance = instance;
        Info = info;
        Options = options;
        _ownsInstance = ownsInstance;
        ThrowOnValidationMessages = options.ThrowOnValidationMessages && instance.ValidationEnabled;
        var physical = instance.PhysicalDevice(info.Index);

        float priority = 1f;
        var queueInfo = new DeviceQueueCreateInfo
        {
            SType = StructureType.DeviceQueueCreateInfo,
            QueueFamilyIndex = (uint)info.ComputeQueueFamily,
            QueueCount = 1,
            PQueuePriorities = &priority,
        };
        // Enable what the device has of the storage and arithmetic features kernels may use.
        var f12 = new PhysicalDeviceVulkan12Features
        {
            SType = StructureType.PhysicalDeviceVulkan12Features,
            ShaderFloat16 = info.Fp16Arithmetic,
            ShaderInt8 = info.Int8Arithmetic,
            StorageBuffer8BitAccess = info.Int8Storage,
        };
        var f11 = new PhysicalDeviceVulkan11Features
        {
            SType = StructureType.PhysicalDeviceVulkan11Features,
            PNext = &f12,
            StorageBuffer16BitAccess = info.Fp16Storage,
        };
        var createInfo = new DeviceCreateInfo
        {
            SType = StructureType.DeviceCreateInfo,
            PNext = &f11,
            QueueCreateInfoCount = 1,
            PQueueCreateInfos = &queueInfo,
        };
        Device device;
        VulkanException.Check(Api.CreateDevice(physical, &createInfo, null, &device), "vkCreateDevice", $"device {info.Index} ({info.Name})");
        Handle = device;
        Api.GetDeviceQueue(device, (uint)info.ComputeQueueFamily, 0, out var queue);
        Queue = queue;

        var poolInfo = new CommandPoolCreateInfo
        {
            SType = StructureType.CommandPoolCreateInfo,
            QueueFamilyIndex = (uint)info.ComputeQueueFamily,
            Flags = CommandPoolCreateFlags.ResetCommandBufferBit,
        };
        CommandPool pool;
        VulkanException.Check(Api.CreateCommandPool(device, &poolInfo, null, &pool), "vkCreateCommandPool");
        CommandPool = pool;

        Api.GetPhysicalDeviceMemoryProperties(physical, out var mem);
        Allocator = new MemoryAllocator(this, mem, options.ForceStagingCopies);
        Pipelines = new PipelineCache(this, options.PipelineCacheDir);
    }

    public GpuBuffer Allocate(ulong bytes, string name, MemoryKind kind = MemoryKind.Device) => Allocator.Allocate(bytes, name, kind);

    /// <summary>A device buffer holding a copy of <paramref name="data"/>.</summary>
    public GpuBuffer Upload<T>(ReadOnlySpan<T> data, string name) where T : unmanaged
    {
        var buffer = Allocate((ulong)(data.Length * sizeof(T)), name);
        try { Write(buffer, data); }
        catch { buffer.Dispose(); throw; }
        return buffer;
    }

    /// <summary>Copies <paramref name="data"/> to the start of <paramref name="target"/> (direct when mapped, staged otherwise).</summary>
    public void Write<T>(GpuBuffer target, ReadOnlySpan<T> data, ulong byteOffset = 0) where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(data);
        if (byteOffset + (ulong)bytes.Length > target.Size)
            throw new ArgumentException($"Writing {bytes.Length} bytes at {byteOffset} overflows buffer '{target.Name}' ({target.Size} bytes).");
        if (target.HostVisible) { bytes.CopyTo(target.HostBytes[(int)byteOffset..]); return; }
        using var staging = Allocate((ulong)bytes.Length, "staging-upload", MemoryKind.Staging);
        bytes.CopyTo(staging.HostBytes);
        using var rec = new CommandRecorder(this);
        rec.Copy(staging.All, target.Range(byteOffset, (ulong)bytes.Length));
        rec.SubmitAndWait();
    }

    /// <summary>Reads <paramref name="destination"/>.Length elements from the start of <paramref name="source"/>.</summary>
    public void Read<T>(BufferRange source, Span<T> destination) where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(destination);
        if ((ulong)bytes.Length > source.Size)
            throw new ArgumentException($"Reading {bytes.Length} bytes from a {source.Size}-byte range of '{source.Buffer.Name}'.");
        if (source.Buffer.HostVisible) { source.Buffer.HostBytes.Slice((int)source.Offset, bytes.Length).CopyTo(bytes); return; }
        using var staging = Allocate((ulong)bytes.Length, "staging-download", MemoryKind.Staging);
        using var rec = new CommandRecorder(this);
        rec.Copy(source with { Size = (ulong)bytes.Length }, staging.All);
        rec.SubmitAndWait();
        staging.HostBytes[..bytes.Length].CopyTo(bytes);
    }

    public T[] Read<T>(BufferRange source, int count) where T : unmanaged
    {
        var result = new T[count];
        Read<T>(source, result);
        return result;
    }

    /// <summary>Queue submissions completed so far (each is one wait); lets tests hold decoders to one per step.</summary>
    public long Submissions { get; private set; }

    /// <summary>Called after each completed submission.</summary>
    internal void AfterSubmit()
    {
        Submissions++;
        if (ThrowOnValidationMessages) Instance.ThrowIfValidationMessages();
    }

    public void Dispose()
    {
        if (Handle.Handle == 0) return;
        Api.DeviceWaitIdle(Handle);
        Pipelines.Dispose();
        Allocator.Dispose();
        Api.DestroyCommandPool(Handle, CommandPool, null);
        Api.DestroyDevice(Handle, null);
        if (_ownsInstance) Instance.Dispose();
    }
}
