namespace TiDAR.Engine.Generation;

/// <summary>
/// Collects generated tokens in order and decides when generation ends: max tokens, a stop token,
/// the caller's callback (stop strings), or the last position the context can hold. Shared by the AR
/// and TiDAR decoders so both stop at exactly the same token.
/// </summary>
internal sealed class TokenSink(GenerationOptions options, int lastPosition, Func<int, bool>? onToken)
{
    public List<int> Tokens { get; } = new();
    public StopReason? Reason { get; private set; }

    /// <summary>Offers the token at <paramref name="position"/>; false when generation must stop (the token may have been taken).</summary>
    public bool Offer(int token, int position)
    {
        if (Reason is not null) return false;
        if (Tokens.Count >= options.MaxTokens) return Stop(StopReason.MaxTokens);
        if (position > lastPosition) return Stop(StopReason.ContextFull);
        if (options.StopTokens.Contains(token)) return Stop(StopReason.EndOfSequence);
        Tokens.Add(token);
        if (onToken is not null && !onToken(token)) return Stop(StopReason.StopString);
        if (Tokens.Count >= options.MaxTokens) return Stop(StopReason.MaxTokens);
        // A token at the last position has no cache slot to be fed through.
        if (position >= lastPosition) return Stop(StopReason.ContextFull);
        return true;
    }

    private bool Stop(StopReason reason)
    {
        Reason = reason;
        return false;
    }
}
