namespace TiDAR.Engine.Gguf;

/// <summary>
/// A GGUF file (or a value headed for one) that breaks the format: truncated, corrupt, inconsistent,
/// or asking for something the file does not hold. The message names the file, what is wrong and,
/// where it applies, the byte offset at which the problem was found.
/// </summary>
public sealed class GgufFormatException : Exception
{
    /// <summary>The file the problem was found in, when known.</summary>
    public string? FilePath { get; }

    /// <summary>Byte offset in the file where the problem was found, or -1 when it has none.</summary>
    public long Offset { get; } = -1;

    public GgufFormatException(string message) : base(message) { }

    public GgufFormatException(string message, Exception? inner) : base(message, inner) { }

    public GgufFormatException(string filePath, long offset, string problem, Exception? inner = null)
        : base(offset >= 0
            ? $"GGUF file '{filePath}': {problem} (at byte offset {offset})"
            : $"GGUF file '{filePath}': {problem}", inner)
    {
        FilePath = filePath;
        Offset = offset;
    }
}
