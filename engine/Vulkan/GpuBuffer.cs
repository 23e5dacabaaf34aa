using Silk.NET.Vulkan;
using Buffer = Silk.NET.Vulkan.Buffer;

namespace TiDAR.Engine.Vulkan;

/// <summary>
/// A range of device memory sub-allocated from a <see cref="MemoryBlock"/>: the unit that kernels bind.
/// The range is [Offset, Offset + Size) of the block's single VkBuffer.
/// </summary>
public sealed unsafe class GpuBuffer : IDisposable
{
    internal MemoryBlock Block { get; }
    public ulong Offset { get; }
    public ulong Size { get; }
    public string Name { get; }
    public bool Disposed { get; private set; }

    internal GpuBuffer(MemoryBlock block, ulong offset, ulong size, string name)
    {
        Block = block;
        Offset = offset;
        Size = size;
        Name = name;
    }

    public Buffer Handle => Block.Buffer;

    /// <summary>True when the CPU can read and write this memory directly (UMA, ReBAR, CPU drivers).</summary>
    public bool HostVisible => Block.Mapped != null;

    /// <summary>The bytes of this buffer as CPU memory; only for host-visible buffers.</summary>
    public Span<byte> HostBytes
    {
        get
        {
            ObjectDisposedException.ThrowIf(Disposed, this);
            if (Block.Mapped == null) throw new InvalidOperationException($"Buffer '{Name}' is not host-visible; use GpuContext.Upload/Download.");
            return new Span<byte>(Block.Mapped + Offset, checked((int)Size));
        }
    }

    public Span<T> HostSpan<T>() where T : unmanaged => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(HostBytes);

    /// <summary>A sub-range for binding, in bytes relative to this buffer.</summary>
    public BufferRange Range(ulong offset, ulong size)
    {
        if (offset + size > Size) throw new ArgumentOutOfRangeException(nameof(size), $"Range [{offset}, {offset + size}) exceeds buffer '{Name}' of {Size} bytes.");
        return new BufferRange(this, offset, size);
    }

    public BufferRange All => new(this, 0, Size);

    public void Dispose()
    {
        if (Disposed) return;
        Disposed = true;
        Block.Free(this);
    }

    public override string ToString() => $"{Name} ({Size} bytes)";
}

/// <summary>A byte range [Offset, Offset+Size) of a <see cref="GpuBuffer"/>, as bound to a kernel.</summary>
public readonly record struct BufferRange(GpuBuffer Buffer, ulong Offset, ulong Size)
{
    public static implicit operator BufferRange(GpuBuffer buffer) => buffer.All;

    /// <summary>Start in the block's VkBuffer (what the descriptor gets).</summary>
    public ulong BlockOffset => Buffer.Offset + Offset;
}
