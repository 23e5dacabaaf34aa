namespace TiDAR.WeightsConvert;

/// <summary>What a finished conversion wrote.</summary>
public sealed record ConvertResult(
    string OutputPath,
    int TensorCount,
    long TensorBytes,
    long FileBytes,
    TimeSpan Elapsed,
    TiDAR.Engine.Model.ModelConfig Config,
    IReadOnlyList<string> Warnings);
