using System.Buffers;

namespace TiDAR.Engine.Tokenizer;

/// <summary>
/// Finds special and added tokens written in text (control, user-defined and unknown tokens, like llama.cpp's
/// special-token partitioning): scanning left to right, the longest token starting at a position wins.
/// </summary>
internal sealed class SpecialTokenMatcher
{
    private readonly Dictionary<char, (string Text, int Id)[]> _byFirstChar;
    private readonly SearchValues<char> _firstChars;

    public SpecialTokenMatcher(IEnumerable<(string Text, int Id)> tokens)
    {
        _byFirstChar = tokens
            .Where(t => t.Text.Length > 0)
            .DistinctBy(t => t.Text, StringComparer.Ordinal)
            .GroupBy(t => t.Text[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Text.Length).ToArray());
        _firstChars = SearchValues.Create(_byFirstChar.Keys.ToArray());
    }

    public bool IsEmpty => _byFirstChar.Count == 0;

    /// <summary>Splits text into (start, length, id) pieces; id is -1 for ordinary text between special tokens.</summary>
    public List<(int Start, int Length, int Id)> Split(string text)
    {
        var pieces = new List<(int, int, int)>();
        int textStart = 0, pos = 0;
        while (pos < text.Length)
        {
            int hit = IsEmpty ? -1 : text.AsSpan(pos).IndexOfAny(_firstChars);
            if (hit < 0) break;
            pos += hit;
            bool matched = false;
            foreach (var (tok, id) in _byFirstChar[text[pos]])
            {
                if (pos + tok.Length <= text.Length && text.AsSpan(pos, tok.Length).SequenceEqual(tok))
                {
                    if (pos > textStart) pieces.Add((textStart, pos - textStart, -1));
                    pieces.Add((pos, tok.Length, id));
                    pos += tok.Length;
                    textStart = pos;
                    matched = true;
                    break;
                }
            }
            if (!matched) pos++;
        }
        if (textStart < text.Length) pieces.Add((textStart, text.Length - textStart, -1));
        return pieces;
    }
}
