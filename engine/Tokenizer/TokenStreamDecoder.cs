using System.Text;

namespace TiDAR.Engine.Tokenizer;

/// <summary>
/// Incremental detokenizer for generation: feed ids one at a time with <see cref="Add"/>, which returns the text
/// that became complete. Bytes of a UTF-8 character split across tokens are held back until the character is
/// complete, so the concatenation of everything returned (plus <see cref="Flush"/>) equals
/// <see cref="TextTokenizer.Decode"/> of all the ids. Not thread-safe; one per generated sequence.
/// </summary>
public sealed class TokenStreamDecoder
{
    private readonly TextTokenizer _tokenizer;
    private readonly bool _skipSpecial;
    private readonly List<byte> _pending = new(16);
    private bool _atStart = true;

    public TokenStreamDecoder(TextTokenizer tokenizer, bool skipSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _tokenizer = tokenizer;
        _skipSpecial = skipSpecial;
    }

    /// <summary>Bytes held back because they end in an incomplete UTF-8 sequence.</summary>
    public int PendingByteCount => _pending.Count;

    /// <summary>Adds one token and returns the newly completed text (possibly empty).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The id is outside the vocabulary.</exception>
    public string Add(int id)
    {
        _tokenizer.AppendPiece(id, _skipSpecial, ref _atStart, _pending);
        int complete = CompleteLength(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending));
        if (complete == 0) return "";
        string text = Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending)[..complete]);
        _pending.RemoveRange(0, complete);
        return text;
    }

    /// <summary>Returns whatever is held back (an incomplete sequence becomes U+FFFD) and empties the buffer.</summary>
    public string Flush()
    {
        if (_pending.Count == 0) return "";
        string text = Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending));
        _pending.Clear();
        return text;
    }

    /// <summary>Forgets held-back bytes and starts over as for a new sequence.</summary>
    public void Reset()
    {
        _pending.Clear();
        _atStart = true;
    }

    /// <summary>
    /// Length of the prefix that can be decoded now: everything except a trailing multi-byte sequence that is still
    /// incomplete. Cutting just before a lead byte never changes how the bytes before it decode (UTF-8 is
    /// self-synchronizing), so decoding in pieces gives the same text as decoding all at once.
    /// </summary>
    internal static int CompleteLength(ReadOnlySpan<byte> bytes)
    {
        int n = bytes.Length;
        // Find the last byte that is not a continuation byte, looking back at most 3 bytes.
        for (int back = 1; back <= Math.Min(4, n); back++)
        {
            byte b = bytes[n - back];
            if ((b & 0xC0) == 0x80) continue; // continuation byte
            int need = b >= 0xF0 && b <= 0xF4 ? 4 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xC2 && b <= 0xDF ? 2 : 1;
            return back < need ? n - back : n;
        }
        return n;
    }
}
