namespace TiDAR.Engine.Generation;

public enum StopReason { MaxTokens, EndOfSequence, StopString, ContextFull, Cancelled }

/// <summary>Counters of one generation, reported by --json.</summary>
public sealed record GenerationStats
{
    public int PromptTokens { get; init; }
    public int GeneratedTokens { get; init; }
    public int Forwards { get; init; }
    public double PrefillMs { get; init; }
    public double DecodeMs { get; init; }
    /// <summary>"ar" or "tidar".</summary>
    public string Mode { get; init; } = "ar";
    /// <summary>TiDAR block size k (1 for AR; for --block auto the last choice, 0 when it chose AR).</summary>
    public int Block { get; init; } = 1;
    /// <summary>How steps were planned: "k=4", or auto's last choice and its acceptance estimate.</summary>
    public string Plan { get; init; } = "";
    /// <summary>Rows of all decode forwards over their count.</summary>
    public double RowsPerForward { get; init; } = 1;
    /// <summary>TiDAR: steps that committed a tokens, at index a-1 (a = 1..k); empty for AR.</summary>
    public IReadOnlyList<int> AcceptedPerPosition { get; init; } = [];
    /// <summary>Generated tokens per decode forward (1 for AR).</summary>
    public double TokensPerForward => Forwards == 0 ? 0 : GeneratedTokens / (double)Forwards;
    /// <summary>Tokens per second of the decode phase: tokens made after the first (which prefill makes) over decode time.</summary>
    public double TokensPerSecond => DecodeMs <= 0 || GeneratedTokens < 2 ? 0 : (GeneratedTokens - 1) / (DecodeMs / 1000.0);
}

public sealed record GenerationResult(IReadOnlyList<int> Tokens, StopReason StopReason, GenerationStats Stats);
