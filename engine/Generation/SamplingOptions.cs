namespace TiDAR.Engine.Generation;

/// <summary>How the next token is picked from a distribution. Temperature 0 means greedy (argmax).</summary>
public sealed record SamplingOptions
{
    public float Temperature { get; init; }
    /// <summary>Keep only the K most likely tokens (0 = all).</summary>
    public int TopK { get; init; }
    /// <summary>Keep the smallest set of most likely tokens whose probability reaches P (1 = all).</summary>
    public float TopP { get; init; } = 1f;
    public int Seed { get; init; } = 0;

    public bool Greedy => Temperature == 0;

    public void Validate()
    {
        if (!(Temperature >= 0) || float.IsInfinity(Temperature)) throw new ArgumentException($"Temperature must be >= 0 (0 = greedy), got {Temperature}.");
        if (TopK < 0) throw new ArgumentException($"top-k must be >= 0 (0 = off), got {TopK}.");
        if (!(TopP > 0 && TopP <= 1)) throw new ArgumentException($"top-p must be in (0, 1], got {TopP}.");
    }
}
