namespace TiDAR.WeightsConvert;

/// <summary>Encodings the converter can write 2-D weight matrices in (norms and biases are always f32).</summary>
public enum OutputType { F32, F16, BF16, Q8_0 }

public static class OutputTypes
{
    public static readonly IReadOnlyList<string> Names = ["f32", "f16", "bf16", "q8_0"];

    public static string Name(this OutputType t) => t switch
    {
        OutputType.F32 => "f32", OutputType.F16 => "f16", OutputType.BF16 => "bf16", OutputType.Q8_0 => "q8_0",
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    /// <summary>"f32", "f16", "bf16" or "q8_0" (case-insensitive); <see cref="ArgumentException"/> otherwise.</summary>
    public static OutputType Parse(string name) => name.ToLowerInvariant() switch
    {
        "f32" => OutputType.F32, "f16" => OutputType.F16, "bf16" => OutputType.BF16, "q8_0" => OutputType.Q8_0,
        _ => throw new ArgumentException($"Unknown output type '{name}'; use one of {string.Join(", ", Names)}.", nameof(name)),
    };

    /// <summary>llama.cpp's LLAMA_FTYPE for general.file_type: ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q8_0 7, MOSTLY_BF16 32.</summary>
    public static uint LlamaFileType(this OutputType t) => t switch
    {
        OutputType.F32 => 0, OutputType.F16 => 1, OutputType.Q8_0 => 7, OutputType.BF16 => 32,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };
}
