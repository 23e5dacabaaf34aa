using TiDAR.Engine.Vulkan;

namespace TiDAR.Engine.Model;

/// <summary>
/// Per-layer key and value buffers on the device, each [Capacity, kvHeads * headDim] in fp32 or fp16.
/// A forward writes each row's K/V at the row's slot; which slots are "committed" is the decoder's
/// business (a length, DESIGN.md section 2): rollback is a length change, never a copy.
/// </summary>
public sealed class KvCache : IDisposable
{
    public int Capacity { get; }
    public bool HalfPrecision { get; }
    public int Layers => Keys.Length;
    public GpuBuffer[] Keys { get; }
    public GpuBuffer[] Values { get; }

    internal KvCache(GpuDevice device, ModelConfig config, int capacity, bool halfPrecision)
    {
        if (capacity < 1) throw new ArgumentOutOfRangeException(nameof(capacity), "KV cache capacity must be at least 1.");
        Capacity = capacity;
        HalfPrecision = halfPrecision;
        ulong bytes = (ulong)capacity * (ulong)config.KvDim * (halfPrecision ? 2UL : 4UL);
        if (bytes > device.Info.MaxStorageBufferRange)
            throw new ArgumentException($"A KV cache of {capacity} slots needs {bytes} bytes per layer, more than one binding allows ({device.Info.MaxStorageBufferRange}); use a shorter context.");
        Keys = new GpuBuffer[config.Layers];
        Values = new GpuBuffer[config.Layers];
        try
        {
            for (int l = 0; l < config.Layers; l++)
            {
                Keys[l] = device.Allocate(bytes, $"k-cache-{l}");
                Values[l] = device.Allocate(bytes, $"v-cache-{l}");
            }
        }
        catch { Dispose(); throw; }
    }

    public void Dispose()
    {
        foreach (var b in Keys.Concat(Values)) b?.Dispose();
    }
}
