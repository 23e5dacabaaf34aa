namespace TiDAR.Engine.Generation;

/// <summary>How drafts are verified (DESIGN.md section 1).</summary>
public enum VerifyMode
{
    /// <summary>Greedy: token-identical to AR greedy. Sampling: speculative sampling, distributed exactly as AR sampling.</summary>
    Exact,
    /// <summary>The paper's mixed logits argmax(beta * AR + (1 - beta) * Diff): faster at beta &lt; 1, but not lossless.</summary>
    Paper,
}

public sealed record TidarOptions
{
    /// <summary>Block size k: drafts per step; a step runs k(k+1) rows.</summary>
    public int Block { get; init; } = 4;
    public VerifyMode Verify { get; init; } = VerifyMode.Exact;
    /// <summary>Paper mode's weight of the AR logits (1 = trust AR, 0 = trust diffusion).</summary>
    public float Beta { get; init; } = 1f;
    /// <summary>--block auto: the device's latency profile; the decoder then picks k and the pre-drafted outcomes per step.</summary>
    public LatencyProfile? AutoProfile { get; init; }

    /// <summary>A custom step schedule (tests, experiments); overrides Block and AutoProfile. Its plans may use up to the model's MaxRows.</summary>
    public IStepPolicy? Policy { get; init; }

    /// <summary>Most cache slots one step uses beyond the committed tokens.</summary>
    public int ScratchSlots(int maxRows) => AutoProfile is null && Policy is null ? Block * (Block + 1) : maxRows;

    public void Validate(int capacity, int maxRows)
    {
        if (!(Beta >= 0 && Beta <= 1)) throw new ArgumentException($"beta must be in [0, 1], got {Beta}.");
        if (AutoProfile is not null || Policy is not null)
        {
            if (maxRows < 2) throw new ArgumentException($"--block auto needs at least 2 rows per forward; the model was opened for {maxRows}.");
            if (maxRows >= capacity) throw new ArgumentException($"--block auto needs {maxRows} scratch slots, too many for a context of {capacity} slots.");
            return;
        }
        if (Block < 1) throw new ArgumentException($"Block size must be >= 1, got {Block}.");
        int rows = Block * (Block + 1);
        if (rows > maxRows) throw new ArgumentException($"Block size {Block} needs {rows} rows per forward; the model was opened for {maxRows}.");
        if (rows >= capacity) throw new ArgumentException($"Block size {Block} needs {rows} scratch slots, too many for a context of {capacity} slots.");
    }
}
