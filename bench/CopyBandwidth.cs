using System.Diagnostics;
using TiDAR.Engine.Vulkan;

namespace TiDAR.Bench;

/// <summary>
/// The device's buffer-to-buffer copy rate, measured once per run (CommandRecorder.Copy of a 64 MiB
/// buffer, median of 7 submissions after one warm-up): the practical memory bandwidth that bandwidth-bound
/// kernels (matvec, attention over a long cache, a one-row forward) are compared with.
/// </summary>
public static class CopyBandwidth
{
    public const ulong Bytes = 64UL << 20;
    private static double? _gbs;

    /// <summary>Bytes copied per ns (= GB/s); null when no GPU benchmark opened the device.</summary>
    public static double? GigabytesPerSecond => _gbs;

    public static string Text => _gbs is double v ? $"{v:F2} GB/s on {SharedDevice.Description}" : "not measured";

    /// <summary>Measures once (called from GPU setups).</summary>
    public static void Ensure(GpuDevice device)
    {
        if (_gbs is not null) return;
        using var src = device.Allocate(Bytes, "copy-bw.src");
        using var dst = device.Allocate(Bytes, "copy-bw.dst");
        device.Write<byte>(src, new byte[Bytes]);
        using var rec = new CommandRecorder(device);
        rec.Copy(src, dst);
        rec.SubmitAndWait();
        var times = new double[7];
        for (int i = 0; i < times.Length; i++)
        {
            var sw = Stopwatch.StartNew();
            rec.SubmitAndWait();
            times[i] = sw.Elapsed.TotalNanoseconds;
        }
        Array.Sort(times);
        _gbs = Bytes / times[times.Length / 2];
        Console.WriteLine($"// Copy bandwidth: {_gbs:F2} GB/s ({Bytes >> 20} MiB buffer-to-buffer copy, median of {times.Length})");
    }
}
