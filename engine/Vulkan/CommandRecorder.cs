using System.Runtime.InteropServices;
using Silk.NET.Vulkan;
using Buffer = Silk.NET.Vulkan.Buffer;

namespace TiDAR.Engine.Vulkan;

/// <summary>How a kernel uses one bound buffer; decides which barriers are needed.</summary>
public enum Access { Read, Write, ReadWrite }

/// <summary>One storage-buffer binding of a dispatch.</summary>
public readonly record struct Binding(BufferRange Range, Access Access)
{
    public static Binding In(BufferRange r) => new(r, Access.Read);
    public static Binding Out(BufferRange r) => new(r, Access.Write);
    public static Binding InOut(BufferRange r) => new(r, Access.ReadWrite);
}

/// <summary>GPU time of one recorded dispatch (from timestamp queries).</summary>
public readonly record struct DispatchTiming(string Label, double Milliseconds);

/// <summary>
/// Records a sequence of dispatches and copies into one command buffer, inserting a memory barrier
/// only where a command touches a range that an earlier command since the last barrier wrote (RAW,
/// WAW) or that it writes what an earlier one read (WAR). A recording can be submitted many times.
/// With timing on, a timestamp after each command gives per-dispatch GPU time; dispatches that run
/// without a barrier between them may overlap, so their individual times are approximate.
/// </summary>
public sealed unsafe class CommandRecorder : IDisposable
{
    private const int SetsPerPool = 512;
    private const int MaxBindingsPerSet = 9;  // the most any shader binds (qkv_rope_store)
    private readonly GpuDevice _device;
    private readonly CommandBuffer _cmd;
    private readonly Fence _fence;
    private readonly List<DescriptorPool> _pools = new();
    private int _setsInPool = SetsPerPool;
    private int _poolIndex = -1;   // pool sets come from; after Reset, pools are reused in order
    private readonly List<(Buffer Buf, ulong Start, ulong End)> _written = new();
    private readonly List<(Buffer Buf, ulong Start, ulong End)> _read = new();
    private readonly QueryPool _queries;
    private readonly int _maxQueries;
    private readonly List<string> _labels = new();
    private bool _ended;

    public int Dispatches { get; private set; }
    public int Barriers { get; private set; }
    public bool Timing { get; }

    public CommandRecorder(GpuDevice device, bool timing = false, int maxTimedCommands = 4096)
    {
        _device = device;
        var vk = device.Api;
        var alloc = new CommandBufferAllocateInfo
        {
            SType = StructureType.CommandBufferAllocateInfo,
            CommandPool = device.CommandPool,
            Level = CommandBufferLevel.Primary,
            CommandBufferCount = 1,
        };
        CommandBuffer cmd;
        VulkanException.Check(vk.AllocateCommandBuffers(device.Handle, &alloc, &cmd), "vkAllocateCommandBuffers");
        _cmd = cmd;
        var fenceInfo = new FenceCreateInfo { SType = StructureType.FenceCreateInfo };
        Fence fence;
        VulkanException.Check(vk.CreateFence(device.Handle, &fenceInfo, null, &fence), "vkCreateFence");
        _fence = fence;

        Timing = timing && device.Info.TimestampValidBits > 0;
        if (Timing)
        {
            _maxQueries = maxTimedCommands + 1;
            var qi = new QueryPoolCreateInfo { SType = StructureType.QueryPoolCreateInfo, QueryType = QueryType.Timestamp, QueryCount = (uint)_maxQueries };
            QueryPool qp;
            VulkanException.Check(vk.CreateQueryPool(device.Handle, &qi, null, &qp), "vkCreateQueryPool");
            _queries = qp;
        }

        Begin();
    }

    private void Begin()
    {
        var vk = _device.Api;
        var begin = new CommandBufferBeginInfo { SType = StructureType.CommandBufferBeginInfo };
        VulkanException.Check(vk.BeginCommandBuffer(_cmd, &begin), "vkBeginCommandBuffer");
        if (Timing)
        {
            vk.CmdResetQueryPool(_cmd, _queries, 0, (uint)_maxQueries);
            vk.CmdWriteTimestamp(_cmd, PipelineStageFlags.TopOfPipeBit, _queries, 0);
        }
    }

    /// <summary>
    /// Starts a new recording in the same command buffer, fence and descriptor pools (none of it in flight:
    /// submissions here always wait). What a per-step loop uses, so a step allocates nothing new.
    /// </summary>
    public void Reset()
    {
        var vk = _device.Api;
        VulkanException.Check(vk.ResetCommandBuffer(_cmd, 0), "vkResetCommandBuffer");
        foreach (var p in _pools) VulkanException.Check(vk.ResetDescriptorPool(_device.Handle, p, 0), "vkResetDescriptorPool");
        _poolIndex = 0;
        _setsInPool = _pools.Count > 0 ? 0 : SetsPerPool;
        _written.Clear();
        _read.Clear();
        _labels.Clear();
        Dispatches = 0;
        Barriers = 0;
        _ended = false;
        Begin();
    }

    /// <summary>Records one dispatch of <paramref name="pipeline"/> over groups (x, y, z).</summary>
    public void Dispatch<TPush>(ComputePipeline pipeline, ReadOnlySpan<Binding> bindings, in TPush push, uint x, uint y = 1, uint z = 1, string? label = null)
        where TPush : unmanaged
    {
        fixed (TPush* p = &push) DispatchRaw(pipeline, bindings, new ReadOnlySpan<byte>(p, sizeof(TPush)), x, y, z, label);
    }

    public void DispatchRaw(ComputePipeline pipeline, ReadOnlySpan<Binding> bindings, ReadOnlySpan<byte> push, uint x, uint y, uint z, string? label)
    {
        if (_ended) throw new InvalidOperationException("This recording was already submitted; create a new CommandRecorder.");
        if (bindings.Length != pipeline.Bindings)
            throw new ArgumentException($"{pipeline.Shader} takes {pipeline.Bindings} buffers, {bindings.Length} given.");
        if (push.Length != pipeline.PushConstantBytes)
            throw new ArgumentException($"{pipeline.Shader} takes {pipeline.PushConstantBytes} bytes of push constants, {push.Length} given.");
        if (x == 0 || y == 0 || z == 0) return;
        var limits = _device.Info;
        if (x > limits.MaxWorkgroupCountX || y > 65535 || z > 65535)
            throw new ArgumentException($"{pipeline.Shader}: workgroup count ({x},{y},{z}) exceeds the device limits.");
        var vk = _device.Api;

        foreach (var b in bindings) CheckRange(pipeline.Shader, b.Range);
        SyncFor(bindings);

        var set = AllocateSet(pipeline.SetLayout);
        var infos = stackalloc DescriptorBufferInfo[bindings.Length];
        var writes = stackalloc WriteDescriptorSet[bindings.Length];
        for (int i = 0; i < bindings.Length; i++)
        {
            var r = bindings[i].Range;
            infos[i] = new DescriptorBufferInfo { Buffer = r.Buffer.Handle, Offset = r.BlockOffset, Range = r.Size };
            writes[i] = new WriteDescriptorSet
            {
                SType = StructureType.WriteDescriptorSet,
                DstSet = set,
                DstBinding = (uint)i,
                DescriptorCount = 1,
                DescriptorType = DescriptorType.StorageBuffer,
                PBufferInfo = &infos[i],
            };
        }
        vk.UpdateDescriptorSets(_device.Handle, (uint)bindings.Length, writes, 0, null);
        vk.CmdBindPipeline(_cmd, PipelineBindPoint.Compute, pipeline.Handle);
        vk.CmdBindDescriptorSets(_cmd, PipelineBindPoint.Compute, pipeline.Layout, 0, 1, &set, 0, null);
        if (push.Length > 0)
            fixed (byte* p = push) vk.CmdPushConstants(_cmd, pipeline.Layout, ShaderStageFlags.ComputeBit, 0, (uint)push.Length, p);
        vk.CmdDispatch(_cmd, x, y, z);
        Dispatches++;
        if (Timing) Stamp(label ?? pipeline.Label);
    }

    /// <summary>Records a buffer-to-buffer copy of min(src, dst) bytes.</summary>
    public void Copy(BufferRange source, BufferRange destination)
    {
        if (_ended) throw new InvalidOperationException("This recording was already submitted.");
        ulong size = Math.Min(source.Size, destination.Size);
        SyncFor([Binding.In(source), Binding.Out(destination)]);
        var region = new BufferCopy { SrcOffset = source.BlockOffset, DstOffset = destination.BlockOffset, Size = size };
        _device.Api.CmdCopyBuffer(_cmd, source.Buffer.Handle, destination.Buffer.Handle, 1, &region);
        if (Timing) Stamp($"copy {size} B");
    }

    /// <summary>Records several copies between two buffers in one command (offsets relative to each buffer).</summary>
    public void CopyRegions(GpuBuffer source, GpuBuffer destination, ReadOnlySpan<(ulong SrcOffset, ulong DstOffset, ulong Size)> regions)
    {
        if (_ended) throw new InvalidOperationException("This recording was already submitted.");
        if (regions.Length == 0) return;
        SyncFor([Binding.In(source.All), Binding.Out(destination.All)]);
        var copies = regions.Length <= 64 ? stackalloc BufferCopy[regions.Length] : new BufferCopy[regions.Length];
        for (int i = 0; i < regions.Length; i++)
        {
            var (s, d, n) = regions[i];
            if (s + n > source.Size || d + n > destination.Size)
                throw new ArgumentException($"Copy region {i} ({n} bytes) exceeds '{source.Name}' or '{destination.Name}'.");
            copies[i] = new BufferCopy { SrcOffset = source.Offset + s, DstOffset = destination.Offset + d, Size = n };
        }
        fixed (BufferCopy* c = copies) _device.Api.CmdCopyBuffer(_cmd, source.Handle, destination.Handle, (uint)copies.Length, c);
        if (Timing) Stamp($"copy {regions.Length} regions");
    }

    /// <summary>Records a fill of a range with a 32-bit pattern (size must be a multiple of 4).</summary>
    public void Fill(BufferRange range, uint value = 0)
    {
        if (_ended) throw new InvalidOperationException("This recording was already submitted.");
        SyncFor([Binding.Out(range)]);
        _device.Api.CmdFillBuffer(_cmd, range.Buffer.Handle, range.BlockOffset, range.Size, value);
        if (Timing) Stamp($"fill {range.Size} B");
    }

    private void CheckRange(string shader, BufferRange r)
    {
        if (r.Buffer.Disposed) throw new ObjectDisposedException(r.Buffer.Name, $"{shader}: buffer '{r.Buffer.Name}' was disposed.");
        if (r.Size > _device.Info.MaxStorageBufferRange)
            throw new ArgumentException($"{shader}: binding {r.Size} bytes of '{r.Buffer.Name}' exceeds this device's maxStorageBufferRange ({_device.Info.MaxStorageBufferRange} bytes); the tensor must be bound in parts.");
        if (r.BlockOffset % _device.Info.MinStorageBufferOffsetAlignment != 0)
            throw new ArgumentException($"{shader}: offset {r.Offset} into '{r.Buffer.Name}' is not a multiple of minStorageBufferOffsetAlignment ({_device.Info.MinStorageBufferOffsetAlignment}).");
    }

    private void SyncFor(ReadOnlySpan<Binding> bindings)
    {
        bool hazard = false;
        foreach (var b in bindings)
        {
            var (buf, s, e) = Key(b.Range);
            if (Overlaps(_written, buf, s, e)) hazard = true;                            // RAW or WAW
            if (b.Access != Access.Read && Overlaps(_read, buf, s, e)) hazard = true;    // WAR
        }
        if (hazard)
        {
            var barrier = new MemoryBarrier
            {
                SType = StructureType.MemoryBarrier,
                SrcAccessMask = AccessFlags.ShaderWriteBit | AccessFlags.TransferWriteBit | AccessFlags.ShaderReadBit | AccessFlags.TransferReadBit,
                DstAccessMask = AccessFlags.ShaderReadBit | AccessFlags.ShaderWriteBit | AccessFlags.TransferReadBit | AccessFlags.TransferWriteBit,
            };
            var stages = PipelineStageFlags.ComputeShaderBit | PipelineStageFlags.TransferBit;
            _device.Api.CmdPipelineBarrier(_cmd, stages, stages, 0, 1, &barrier, 0, null, 0, null);
            Barriers++;
            _written.Clear();
            _read.Clear();
        }
        foreach (var b in bindings)
        {
            var key = Key(b.Range);
            if (b.Access != Access.Write) _read.Add(key);
            if (b.Access != Access.Read) _written.Add(key);
        }
    }

    private static (Buffer, ulong, ulong) Key(BufferRange r) => (r.Buffer.Handle, r.BlockOffset, r.BlockOffset + r.Size);

    private static bool Overlaps(List<(Buffer Buf, ulong Start, ulong End)> set, Buffer buf, ulong s, ulong e)
    {
        foreach (var x in set)
            if (x.Buf.Handle == buf.Handle && x.Start < e && s < x.End) return true;
        return false;
    }

    private void Stamp(string label)
    {
        if (!Timing || _labels.Count + 1 >= _maxQueries) return;
        _labels.Add(label);
        _device.Api.CmdWriteTimestamp(_cmd, PipelineStageFlags.BottomOfPipeBit, _queries, (uint)_labels.Count);
    }

    private DescriptorSet AllocateSet(DescriptorSetLayout layout)
    {
        var vk = _device.Api;
        if (_setsInPool == SetsPerPool && _poolIndex + 1 < _pools.Count)
        {
            _poolIndex++;
            _setsInPool = 0;
        }
        else if (_setsInPool == SetsPerPool)
        {
            var size = new DescriptorPoolSize { Type = DescriptorType.StorageBuffer, DescriptorCount = SetsPerPool * MaxBindingsPerSet };
            var info = new DescriptorPoolCreateInfo { SType = StructureType.DescriptorPoolCreateInfo, MaxSets = SetsPerPool, PoolSizeCount = 1, PPoolSizes = &size };
            DescriptorPool pool;
            VulkanException.Check(vk.CreateDescriptorPool(_device.Handle, &info, null, &pool), "vkCreateDescriptorPool");
            _pools.Add(pool);
            _poolIndex = _pools.Count - 1;
            _setsInPool = 0;
        }
        var alloc = new DescriptorSetAllocateInfo
        {
            SType = StructureType.DescriptorSetAllocateInfo,
            DescriptorPool = _pools[_poolIndex],
            DescriptorSetCount = 1,
            PSetLayouts = &layout,
        };
        DescriptorSet set;
        VulkanException.Check(vk.AllocateDescriptorSets(_device.Handle, &alloc, &set), "vkAllocateDescriptorSets");
        _setsInPool++;
        return set;
    }

    /// <summary>Ends the recording (first time), submits it and waits for completion.</summary>
    public void SubmitAndWait()
    {
        var vk = _device.Api;
        if (!_ended)
        {
            // Make device writes visible to the host before the fence signals.
            var barrier = new MemoryBarrier
            {
                SType = StructureType.MemoryBarrier,
                SrcAccessMask = AccessFlags.ShaderWriteBit | AccessFlags.TransferWriteBit,
                DstAccessMask = AccessFlags.HostReadBit,
            };
            vk.CmdPipelineBarrier(_cmd, PipelineStageFlags.ComputeShaderBit | PipelineStageFlags.TransferBit, PipelineStageFlags.HostBit, 0, 1, &barrier, 0, null, 0, null);
            VulkanException.Check(vk.EndCommandBuffer(_cmd), "vkEndCommandBuffer");
            _ended = true;
        }
        var cmd = _cmd;
        var submit = new SubmitInfo { SType = StructureType.SubmitInfo, CommandBufferCount = 1, PCommandBuffers = &cmd };
        var fence = _fence;
        VulkanException.Check(vk.QueueSubmit(_device.Queue, 1, &submit, fence), "vkQueueSubmit");
        var timeoutNs = (ulong)(_device.Options.SubmitTimeout.TotalMilliseconds * 1e6);
        var result = vk.WaitForFences(_device.Handle, 1, &fence, true, timeoutNs);
        if (result == Result.Timeout)
            throw new VulkanException("vkWaitForFences", result, $"the GPU did not finish {Dispatches} dispatches within {_device.Options.SubmitTimeout.TotalSeconds:F0} s");
        VulkanException.Check(result, "vkWaitForFences");
        VulkanException.Check(vk.ResetFences(_device.Handle, 1, &fence), "vkResetFences");
        _device.AfterSubmit();
    }

    /// <summary>Per-command GPU times of the last submission (empty without timing).</summary>
    public IReadOnlyList<DispatchTiming> ReadTimings()
    {
        if (!Timing || _labels.Count == 0) return Array.Empty<DispatchTiming>();
        var stamps = new ulong[_labels.Count + 1];
        fixed (ulong* s = stamps)
            VulkanException.Check(_device.Api.GetQueryPoolResults(_device.Handle, _queries, 0, (uint)stamps.Length,
                (nuint)(stamps.Length * 8), s, 8, QueryResultFlags.Result64Bit | QueryResultFlags.ResultWaitBit), "vkGetQueryPoolResults");
        ulong mask = _device.Info.TimestampValidBits >= 64 ? ulong.MaxValue : (1UL << (int)_device.Info.TimestampValidBits) - 1;
        var result = new DispatchTiming[_labels.Count];
        for (int i = 0; i < _labels.Count; i++)
            result[i] = new DispatchTiming(_labels[i], ((stamps[i + 1] - stamps[i]) & mask) * _device.Info.TimestampPeriodNs / 1e6);
        return result;
    }

    public void Dispose()
    {
        var vk = _device.Api;
        var cmd = _cmd;
        vk.FreeCommandBuffers(_device.Handle, _device.CommandPool, 1, &cmd);
        vk.DestroyFence(_device.Handle, _fence, null);
        foreach (var p in _pools) vk.DestroyDescriptorPool(_device.Handle, p, null);
        if (Timing) vk.DestroyQueryPool(_device.Handle, _queries, null);
    }
}
