using TiDAR.Engine.Generation;
using TiDAR.Engine.Model;
using TiDAR.Engine.Vulkan;

namespace TiDAR.Cli;

/// <summary>
/// The latency-vs-rows profile that --block auto plans with: measured once per device, driver, model
/// file and row limit, then kept under $XDG_CACHE_HOME/tidar/profiles (or ~/.cache/tidar/profiles).
/// </summary>
internal static class ProfileCache
{
    /// <summary>Row counts stop past a forward this many times one row's: drafting cannot pay there (LatencyProfile.Measure).</summary>
    public const double StopAtRatio = 8;

    public static LatencyProfile Get(GpuDevice device, LoadedModel model, int maxRows, int context)
    {
        var file = new FileInfo(model.Path);
        var d = device.Info;
        string Safe(string s) => string.Concat(s.Select(ch => char.IsLetterOrDigit(ch) ? ch : '_'));
        var name = $"{Safe(d.Name)}-{d.DriverVersion:x}-{Safe(Path.GetFileNameWithoutExtension(file.Name))}-{file.Length:x}-{file.LastWriteTimeUtc.Ticks:x}-{maxRows}-{context}.json";
        var path = Path.Combine(PipelineCache.DefaultCacheDir(), "profiles", name);
        if (LatencyProfile.Load(path) is { } cached) return cached;
        Console.Error.WriteLine($"Measuring forward latency against rows on {d.Name} (once per device and model; cached in {path}) ...");
        var profile = LatencyProfile.Measure(model.Model, LatencyProfile.DefaultRowCounts(maxRows), context,
            progress: new Progress<string>(s => Console.Error.WriteLine("  " + s)), stopAtRatio: StopAtRatio);
        try { profile.Save(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { Console.Error.WriteLine($"note: could not cache the profile: {e.Message}"); }
        return profile;
    }
}
