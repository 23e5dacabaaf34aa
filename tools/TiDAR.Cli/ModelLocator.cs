namespace TiDAR.Cli;

/// <summary>Finds the model to run when --model is not given: TIDAR_MODEL, else models/tidar-default.gguf of this checkout.</summary>
internal static class ModelLocator
{
    public const string DefaultFile = "models/tidar-default.gguf";

    public static string Resolve(string? requested)
    {
        if (!string.IsNullOrEmpty(requested)) return requested;
        if (Environment.GetEnvironmentVariable("TIDAR_MODEL") is { Length: > 0 } env) return env;
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, DefaultFile);
                if (File.Exists(candidate)) return candidate;
            }
        }
        throw new FileNotFoundException($"No model given and no default model found ({DefaultFile} in this checkout). Pass --model PATH.gguf or set TIDAR_MODEL.");
    }
}
