namespace TiDAR.Engine.Model;

/// <summary>
/// One row of a forward pass (DESIGN.md section 2): the token, its RoPE position, the KV-cache slot
/// its key and value are written to, and the key slots it sees, [0, VisibleA) U [VisibleB, VisibleE).
/// Causal prefill, AR decode, the TiDAR step and the training mask are all lists of such rows.
/// </summary>
public readonly record struct ForwardRow(int Token, int Position, int Slot, int VisibleA, int VisibleB, int VisibleE)
{
    /// <summary>An ordinary causal row: position = slot, sees every slot up to and including its own.</summary>
    public static ForwardRow Causal(int token, int position) => new(token, position, position, position + 1, 0, 0);

    public bool Sees(int slot) => slot < VisibleA || (slot >= VisibleB && slot < VisibleE);

    /// <summary>Throws naming the row when it does not fit a cache of <paramref name="capacity"/> slots or a vocabulary.</summary>
    public void Validate(int index, int capacity, int vocab)
    {
        if (Token < 0 || Token >= vocab) throw new ArgumentException($"Row {index}: token {Token} is outside the vocabulary (0..{vocab - 1}).");
        if (Position < 0) throw new ArgumentException($"Row {index}: negative position {Position}.");
        if (Slot < 0 || Slot >= capacity) throw new ArgumentException($"Row {index}: slot {Slot} is outside the KV cache (capacity {capacity}).");
        if (VisibleA < 0 || VisibleA > capacity || VisibleB < 0 || VisibleE > capacity)
            throw new ArgumentException($"Row {index}: visibility [0,{VisibleA}) U [{VisibleB},{VisibleE}) exceeds the cache (capacity {capacity}).");
    }
}
