using TiDAR.Engine.Tokenizer;

namespace TiDAR.Tests;

/// <summary>Small hand-made vocabularies whose encodings can be worked out by hand.</summary>
internal static class TokenizerTestData
{
    /// <summary>GPT-2's byte alphabet: printable Latin-1 maps to itself, the other bytes to U+0100 upwards.</summary>
    public static string ByteChar(byte b)
    {
        int next = 0;
        for (int i = 0; i < 256; i++)
        {
            bool printable = (i >= '!' && i <= '~') || (i >= 0xA1 && i <= 0xAC) || (i >= 0xAE && i <= 0xFF);
            char c = printable ? (char)i : (char)(256 + next++);
            if (i == b) return c.ToString();
        }
        throw new ArgumentOutOfRangeException(nameof(b));
    }

    public const int He = 256, Ll = 257, Hell = 258, Hello = 259, GW = 260, Or = 261, GWor = 262, End = 263, Abc = 264, Ab = 265,
        N12 = 266, N34 = 267, N123 = 268, TinyBpeSize = 269;

    /// <summary>
    /// Byte-level BPE: ids 0..255 are the bytes (id = byte value), then he, ll, hell, hello, Ġw, or, Ġwor,
    /// &lt;|end|&gt; (control), abc (no merge makes it), ab, 12, 34, 123; merges in that priority order (with "3 4"
    /// before "12 3", so how digits are grouped before merging shows in the ids).
    /// </summary>
    public static TokenizerData TinyBpe(string pre = "qwen2")
    {
        var tokens = Enumerable.Range(0, 256).Select(b => ByteChar((byte)b)).ToList();
        tokens.AddRange(["he", "ll", "hell", "hello", "Ġw", "or", "Ġwor", "<|end|>", "abc", "ab", "12", "34", "123"]);
        var types = tokens.Select(_ => TokenType.Normal).ToList();
        types[End] = TokenType.Control;
        return new TokenizerData
        {
            Model = "gpt2",
            Pre = pre,
            Tokens = tokens,
            TokenTypes = types,
            Merges = ["h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "a b", "1 2", "3 4", "12 3"],
            EosId = End,
        };
    }

    public const int SpUnk = 0, SpBos = 1, SpEos = 2, SpByte0 = 3, SpSpace = 259, SpA = 260, SpB = 261, SpC = 262, SpAb = 263, SpSpaceAb = 264, SpAbc = 265, SpUser = 266;

    /// <summary>
    /// SentencePiece BPE as GGUF metadata: &lt;unk&gt; &lt;s&gt; &lt;/s&gt;, 256 byte pieces, then ▁ a b c ab ▁ab abc with
    /// falling scores, and a user-defined &lt;|user|&gt;.
    /// </summary>
    public static Dictionary<string, object> TinySentencePieceMetadata()
    {
        var tokens = new List<string> { "<unk>", "<s>", "</s>" };
        var types = new List<int> { 2, 3, 3 };
        var scores = new List<float> { 0, 0, 0 };
        for (int b = 0; b < 256; b++)
        {
            tokens.Add($"<0x{b:X2}>");
            types.Add(6);
            scores.Add(0);
        }
        string[] pieces = ["▁", "a", "b", "c", "ab", "▁ab", "abc"];
        for (int i = 0; i < pieces.Length; i++)
        {
            tokens.Add(pieces[i]);
            types.Add(1);
            scores.Add(-1 - i);
        }
        tokens.Add("<|user|>");
        types.Add(4);
        scores.Add(0);
        return new Dictionary<string, object>
        {
            ["tokenizer.ggml.model"] = "llama",
            ["tokenizer.ggml.pre"] = "default",
            ["tokenizer.ggml.tokens"] = tokens.ToArray(),
            ["tokenizer.ggml.token_type"] = types.ToArray(),
            ["tokenizer.ggml.scores"] = scores.ToArray(),
            ["tokenizer.ggml.bos_token_id"] = 1u,
            ["tokenizer.ggml.eos_token_id"] = 2u,
            ["tokenizer.ggml.unknown_token_id"] = 0u,
            ["tokenizer.ggml.add_bos_token"] = true,
        };
    }

    /// <summary>The metadata of <see cref="TinyBpe"/> as a GGUF reader would hand it over.</summary>
    public static Dictionary<string, object> TinyBpeMetadata() => new(TinyBpe().ToGgufMetadata());
}
