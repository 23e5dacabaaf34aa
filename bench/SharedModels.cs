using TiDAR.Engine.Model;

namespace TiDAR.Bench;

/// <summary>
/// Random-weight models (RandomModels) on the shared device, built once per run and row limit: building
/// qwen2.5-0.5b generates and quantizes ~500M weights (about 10 s), so suites share them.
/// </summary>
public static class SharedModels
{
    private static readonly Dictionary<(string, int), (RandomModel Spec, GpuModel Model)> Models = new();

    public static (RandomModel Spec, GpuModel Model) Get(string name, int maxRows)
    {
        if (Models.TryGetValue((name, maxRows), out var m)) return m;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var spec = RandomModels.Create(name);
        var model = spec.Load(SharedDevice.Device, new GpuModelOptions { MaxRows = maxRows, MaxOutputRows = maxRows });
        Console.WriteLine($"// Model: {spec.Description}, {model.WeightBytes / 1e6:F0} MB on the device, built in {sw.Elapsed.TotalSeconds:F1} s");
        return Models[(name, maxRows)] = (spec, model);
    }

    public static void Release(string name)
    {
        foreach (var key in Models.Keys.Where(k => k.Item1 == name).ToList())
        {
            Models[key].Model.Dispose();
            Models.Remove(key);
        }
    }

    public static void Close()
    {
        foreach (var (_, model) in Models.Values) model.Dispose();
        Models.Clear();
    }
}
