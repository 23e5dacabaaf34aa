namespace TiDAR.Engine.Model;

/// <summary>The project's shipped model, models/tidar-default.gguf, found from the working directory or the program's own.</summary>
public static class DefaultModel
{
    public const string RelativePath = "models/tidar-default.gguf";

    /// <summary>The first models/tidar-default.gguf in the current directory, the program's directory, or one above them; null if none.</summary>
    public static string? Find()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, RelativePath);
                if (File.Exists(candidate)) return candidate;
            }
        return null;
    }
}
