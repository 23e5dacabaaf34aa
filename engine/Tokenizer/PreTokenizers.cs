using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace TiDAR.Engine.Tokenizer;

/// <summary>
/// The pre-tokenizer regexes of llama.cpp's <c>tokenizer.ggml.pre</c> names that this engine implements, and the
/// mapping from a name to its regex.
/// </summary>
public static partial class PreTokenizers
{
    /// <summary>Qwen2 / Qwen2.5 / Qwen3 (<c>tokenizer.ggml.pre = "qwen2"</c>): single digits.</summary>
    public const string Qwen2Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Llama-3 (<c>"llama-bpe"</c>): like Qwen2 but digits in groups of up to three.</summary>
    public const string Llama3Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>GPT-2 (<c>"gpt2"</c>), also HF's ByteLevel pre-tokenizer with <c>use_regex: true</c>.</summary>
    public const string Gpt2Pattern =
        @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    [GeneratedRegex(Qwen2Pattern, RegexOptions.CultureInvariant)]
    private static partial Regex Qwen2Regex();

    [GeneratedRegex(Llama3Pattern, RegexOptions.CultureInvariant)]
    private static partial Regex Llama3Regex();

    [GeneratedRegex(Gpt2Pattern, RegexOptions.CultureInvariant)]
    private static partial Regex Gpt2Regex();

    /// <summary>llama.cpp pre names that use <see cref="Qwen2Pattern"/>.</summary>
    private static readonly HashSet<string> Qwen2Names = new(StringComparer.Ordinal) { "qwen2", "deepseek-r1-qwen" };

    /// <summary>llama.cpp pre names of its LLAMA3 pre-tokenizer type (<see cref="Llama3Pattern"/> plus ignore_merges).</summary>
    private static readonly HashSet<string> Llama3Names = new(StringComparer.Ordinal)
        { "llama-bpe", "llama3", "llama-v3", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2" };

    /// <summary>How a pre name is implemented.</summary>
    /// <param name="Pattern">The regex source used.</param>
    /// <param name="IgnoreMerges">Whole pre-tokens found in the vocabulary are emitted as one token before any merge
    /// (llama.cpp's / HF's <c>ignore_merges</c>, on for Llama-3).</param>
    /// <param name="Note">Set when the name is not implemented exactly and a fallback is used.</param>
    public readonly record struct Resolution(string Name, string Pattern, bool IgnoreMerges, string? Note);

    /// <summary>Resolves a <c>tokenizer.ggml.pre</c> name; unknown names (and "default") fall back to GPT-2's regex with a note.</summary>
    public static Resolution Resolve(string? pre)
    {
        pre ??= "default";
        if (Qwen2Names.Contains(pre)) return new(pre, Qwen2Pattern, false, null);
        if (Llama3Names.Contains(pre)) return new(pre, Llama3Pattern, true, null);
        if (pre == "gpt2") return new(pre, Gpt2Pattern, false, null);
        return new(pre, Gpt2Pattern, false,
            $"pre-tokenizer '{pre}' is not implemented; using GPT-2's regex instead (token ids may differ from llama.cpp's for some texts)");
    }

    internal static Regex RegexFor(string pattern) => pattern switch
    {
        Qwen2Pattern => Qwen2Regex(),
        Llama3Pattern => Llama3Regex(),
        Gpt2Pattern => Gpt2Regex(),
        _ => new Regex(pattern, RegexOptions.CultureInvariant),
    };

    /// <summary>The llama.cpp pre name for a Hugging Face Split regex, or null when it is not one of the known ones.</summary>
    internal static string? NameForPattern(string pattern) => pattern switch
    {
        Qwen2Pattern => "qwen2",
        Llama3Pattern => "llama-bpe",
        Gpt2Pattern => "gpt2",
        @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)" => "gpt2",
        _ => null,
    };
}

/// <summary>
/// Splits text with a pre-tokenizer regex the way Rust's / Python's regex engines would, i.e. on code points:
/// .NET regexes see UTF-16 code units, so a letter outside the BMP (e.g. U+1D400) would not match \p{L}.
/// Text with surrogate pairs is matched on a stand-in string where each astral code point is one BMP character
/// of the same class (letter, number or other), and the matches are mapped back to the original offsets.
/// </summary>
internal sealed class CodePointRegexPreTokenizer(Regex regex) : PreTokenizer
{
    private const char LetterStandIn = '\u00AA';  // ª, Lo
    private const char NumberStandIn = '\u00B2';  // ², No
    private const char OtherStandIn = '\uE000';   // private use, Co

    public Regex Regex { get; } = regex;

    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) =>
        string.IsNullOrEmpty(text) ? [] : Split(text);

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) =>
        text.IsEmpty ? [] : Split(text.ToString());

    /// <summary>(offset, length) pieces covering the whole text, in order.</summary>
    public List<(int Offset, int Length)> Split(string text)
    {
        var result = new List<(int, int)>();
        int last = 0;
        if (text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') < 0)
        {
            foreach (var m in Regex.EnumerateMatches(text))
            {
                if (m.Length == 0) continue;
                if (m.Index > last) result.Add((last, m.Index - last));
                result.Add((m.Index, m.Length));
                last = m.Index + m.Length;
            }
        }
        else
        {
            var standIn = new char[text.Length];
            var start = new int[text.Length + 1]; // start[k] = offset in text of stand-in char k
            int n = 0;
            for (int i = 0; i < text.Length;)
            {
                start[n] = i;
                if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    standIn[n++] = CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(text[i], text[i + 1])) switch
                    {
                        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => LetterStandIn,
                        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => NumberStandIn,
                        _ => OtherStandIn,
                    };
                    i += 2;
                }
                else
                {
                    standIn[n++] = text[i++];
                }
            }
            start[n] = text.Length;
            foreach (var m in Regex.EnumerateMatches(standIn.AsSpan(0, n)))
            {
                if (m.Length == 0) continue;
                int from = start[m.Index], to = start[m.Index + m.Length];
                if (from > last) result.Add((last, from - last));
                result.Add((from, to - from));
                last = to;
            }
        }
        if (last < text.Length) result.Add((last, text.Length - last));
        return result;
    }
}
