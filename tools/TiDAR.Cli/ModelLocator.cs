using TiDAR.Engine.Model;

namespace TiDAR.Cli;

/// <summary>Finds the model to run when --model is not given: TIDAR_MODEL, else models/tidar-default.gguf of this checkout.</summary>
internal static class ModelLocator
{
    public const string DefaultFile = DefaultModel.RelativePath;

    public static string Resolve(string? requested)
    {
        if (!string.IsNullOrEmpty(requested)) return requested;
        if (Environment.GetEnvironmentVariable("TIDAR_MODEL") is { Length: > 0 } env) return env;
        return DefaultModel.Find()
            ?? throw new FileNotFoundException($"No model given and no default model found ({DefaultFile} in this checkout). Pass --model PATH.gguf or set TIDAR_MODEL.");
    }
}
