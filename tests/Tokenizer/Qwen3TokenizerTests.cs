using System.Text;
using TiDAR.Engine.Tokenizer;

namespace TiDAR.Tests;

/// <summary>
/// TextTokenizer with the real Qwen3 tokenizer. Expected ids come from the Hugging Face tokenizer (transformers.js
/// run on the same tokenizer.json, add_special_tokens=false).
/// </summary>
public sealed class Qwen3TokenizerTests(Qwen3TokenizerFixture qwen) : IClassFixture<Qwen3TokenizerFixture>
{
    private TextTokenizer Tok => qwen.Tokenizer;

    public static TheoryData<string, int[]> Reference => new()
    {
        { "Once upon a time,", [12522, 5193, 264, 882, 11] },
        { "Hello world  \n\n  x", [9707, 1879, 18611, 220, 856] },
        { "日本語のテキスト 😀 café 12345", [101059, 102819, 15767, 56833, 61803, 70534, 90316, 51950, 220, 16, 17, 18, 19, 20] },
        { "def f(x):\n    return x**2\n", [750, 282, 2075, 982, 262, 470, 856, 334, 17, 198] },
        // Letters outside the BMP must count as \p{L} (the pre-tokenizer works on code points, not UTF-16 units).
        { "a𝐀b x𠀀y 👨‍👩‍👧", [64, 146527, 65, 856, 172, 63219, 222, 88, 61804, 101, 378, 235, 145233, 378, 235, 145665] },
        { "<|im_start|>user\nWhat's 2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n",
            [151644, 872, 198, 3838, 594, 220, 17, 10, 17, 30, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271] },
        { "   leading and trailing   ", [256, 6388, 323, 27748, 262] },
        { "Numbers: 1234567890, 3.14159, -42", [27237, 25, 220, 16, 17, 18, 19, 20, 21, 22, 23, 24, 15, 11, 220, 18, 13, 16, 19, 16, 20, 24, 11, 481, 19, 17] },
        { "\t\ttabs\r\nCRLF\r\n", [197, 3244, 3435, 319, 34, 80658, 319] },
        { "I'LL we've DON'T", [40, 6, 4086, 582, 3003, 44273, 17323] },
        { "Привет, мир! Γειά σου Κόσμε. مرحبا بالعالم",
            [53645, 26991, 8178, 11, 137144, 0, 84216, 30143, 29762, 74134, 47723, 72886, 7851, 248, 75195, 43928, 43123, 30143, 13, 23364, 126860, 124671, 124476, 129634] },
        { "<|endoftext|><|endoftext|>plain<|fim_prefix|>", [151643, 151643, 20772, 151659] },
    };

    public static TheoryData<string> RoundTripTexts => new(RoundTripStrings);

    private static readonly string[] RoundTripStrings =
    [
        "",
        " ",
        "Once upon a time, there was a tokenizer.",
        "Unicode: café naïve façade Ærøskøbing straße İstanbul ǅ",
        "Emoji: 😀 👍🏽 👨‍👩‍👧‍👦 🇯🇵 🧑‍💻 ❤️",
        "CJK: 日本語のテキスト、中文测试。한국어 텍스트",
        "Astral letters: 𝐀𝐁𝐂 𠀀𠀁 𝒳",
        "Numbers 0 1 12 123 1234 12345 3.14159 -2.5e-10 1,000,000 ١٢٣ Ⅻ ½",
        "Whitespace   runs \t\t tabs \u00a0 nbsp \u3000 ideographic    ",
        "New\nlines\n\n\nand\r\nCRLF\r\n\r\n",
        "    indented\n\tcode\n",
        "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\nprint([fib(i) for i in range(10)])\n",
        "{\"key\": [1, 2, {\"nested\": null}], \"s\": \"a\\\"b\"}",
        "<html><body class=\"x\">&amp; &lt;</body></html>",
        "I'm sure you'll see they've done it; we'd say it's fine. DON'T SHOUT",
        "Mixed: x²+y²=z² — “quotes” ‘single’ … «guillemets» ¿Qué? ¡Sí!",
        "Zero\u200bwidth\u200djoiner and \u2028 line separator",
    ];

    [Fact]
    public void OnceUponATimeEncodesLikeHuggingFace()
    {
        Assert.Equal(new[] { 12522, 5193, 264, 882, 11 }, Tok.Encode("Once upon a time,"));
    }

    [Theory]
    [MemberData(nameof(Reference))]
    public void EncodesLikeHuggingFace(string text, int[] expected)
    {
        Assert.Equal(expected, Tok.Encode(text));
    }

    [Theory]
    [MemberData(nameof(RoundTripTexts))]
    public void DecodeOfEncodeIsTheText(string text)
    {
        Assert.Equal(text, Tok.Decode(Tok.Encode(text)));
    }

    [Fact]
    public void LoadsQwen3SpecialTokens()
    {
        Assert.Equal("qwen2", qwen.Data.Pre);
        Assert.Equal("gpt2", qwen.Data.Model);
        Assert.Equal(151669, Tok.VocabSize);
        Assert.Null(Tok.BosId);
        Assert.Equal(151645, Tok.EosId); // <|im_end|>
        Assert.Equal(151643, qwen.Data.PadId); // <|endoftext|>
        Assert.False(qwen.Data.AddBos);
        Assert.Null(Tok.PreTokenizerNote);
        Assert.True(Tok.IsSpecial(151644)); // <|im_start|>
        Assert.False(Tok.IsSpecial(151667)); // <think> is a user-defined token, printed as text
        Assert.Equal(TokenType.UserDefined, Tok.GetTokenType(151667));
        Assert.False(Tok.IsSpecial(9707));
        Assert.Equal(new HashSet<int> { 151643, 151645 }, Tok.EndOfGenerationIds.ToHashSet());
        Assert.Contains("<|im_start|>", qwen.Data.ChatTemplate);
        Assert.Equal(151644, Tok.TokenToId("<|im_start|>"));
        Assert.Equal("Ġworld", Tok.GetTokenText(1879));
    }

    [Fact]
    public void SpecialTokensInTextAreSingleIdsAndDecodeBack()
    {
        const string chat = "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n";
        var ids = Tok.Encode(chat);
        Assert.Equal(3, ids.Count(id => id == 151644));
        Assert.Equal(2, ids.Count(id => id == 151645));
        Assert.Equal(chat, Tok.Decode(ids));
        Assert.Equal("system\nYou are helpful.\nuser\nHi\nassistant\n", Tok.Decode(ids, skipSpecial: true));

        // Without special-token parsing the same text is ordinary characters.
        var plain = Tok.Encode(chat, addSpecialTokens: false, parseSpecial: false);
        Assert.DoesNotContain(151644, plain);
        Assert.Equal(chat, Tok.Decode(plain));

        // A partial special token is just text.
        Assert.DoesNotContain(151644, Tok.Encode("<|im_start| >"));
    }

    [Fact]
    public void AddSpecialTokensAddsNothingWhenTheModelHasNoBos()
    {
        Assert.Equal(Tok.Encode("Hello"), Tok.Encode("Hello", addSpecialTokens: true));
    }

    [Fact]
    public void GgufMetadataRoundTripGivesTheSameTokenizer()
    {
        var md = qwen.Data.ToGgufMetadata();
        Assert.Equal("gpt2", md["tokenizer.ggml.model"]);
        Assert.Equal("qwen2", md["tokenizer.ggml.pre"]);
        Assert.IsType<string[]>(md["tokenizer.ggml.tokens"]);
        Assert.IsType<int[]>(md["tokenizer.ggml.token_type"]);
        Assert.IsType<string[]>(md["tokenizer.ggml.merges"]);
        Assert.Equal(151645u, Assert.IsType<uint>(md["tokenizer.ggml.eos_token_id"]));
        Assert.Equal(151643u, Assert.IsType<uint>(md["tokenizer.ggml.padding_token_id"]));
        Assert.False(md.ContainsKey("tokenizer.ggml.bos_token_id"));
        Assert.False(Assert.IsType<bool>(md["tokenizer.ggml.add_bos_token"]));
        Assert.IsType<string>(md["tokenizer.chat_template"]);
        Assert.False(md.ContainsKey("tokenizer.ggml.scores"));

        var back = TokenizerData.FromGgufMetadata(md);
        Assert.Equal(qwen.Data.Tokens, back.Tokens);
        Assert.Equal(qwen.Data.TokenTypes, back.TokenTypes);
        Assert.Equal(qwen.Data.Merges, back.Merges);
        Assert.Equal(qwen.Data.ChatTemplate, back.ChatTemplate);
        Assert.Equal((qwen.Data.BosId, qwen.Data.EosId, qwen.Data.PadId, qwen.Data.AddBos, qwen.Data.Pre),
            (back.BosId, back.EosId, back.PadId, back.AddBos, back.Pre));

        // Padded like llama.cpp's converter does for Qwen3's 151936-row embedding.
        var tok2 = new TextTokenizer(back.WithVocabSize(151936));
        Assert.Equal(151936, tok2.VocabSize);
        Assert.Equal(TokenType.Unused, tok2.GetTokenType(151935));
        Assert.Equal("", tok2.Decode([151700]));
        foreach (var text in RoundTripStrings.Concat(Reference.Select(r => (string)r[0])))
            Assert.Equal(Tok.Encode(text), tok2.Encode(text));
    }

    [Theory]
    [MemberData(nameof(RoundTripTexts))]
    public void StreamingDecoderEqualsDecode(string text)
    {
        var ids = Tok.Encode(text);
        var stream = Tok.CreateStreamDecoder();
        var sb = new StringBuilder();
        foreach (int id in ids)
        {
            string piece = stream.Add(id);
            Assert.DoesNotContain('\uFFFD', piece); // never half a character
            sb.Append(piece);
        }
        Assert.Equal(0, stream.PendingByteCount);
        sb.Append(stream.Flush());
        Assert.Equal(Tok.Decode(ids), sb.ToString());
    }

    [Fact]
    public void StreamingDecoderHoldsBackIncompleteCharacters()
    {
        // 😀 is F0 9F 98 80; with single-byte tokens it arrives one byte at a time.
        int[] bytes = Encoding.UTF8.GetBytes("a😀b").Select(b => Tok.TokenToId(TokenizerTestData.ByteChar(b))!.Value).ToArray();
        var stream = Tok.CreateStreamDecoder();
        var outputs = bytes.Select(stream.Add).ToArray();
        Assert.Equal(new[] { "a", "", "", "", "😀", "b" }, outputs);
        Assert.Equal("a😀b", Tok.Decode(bytes));

        // A dangling lead byte is held back, then flushed as U+FFFD, as Decode would give.
        stream.Reset();
        Assert.Equal("", stream.Add(bytes[1]));
        Assert.Equal(1, stream.PendingByteCount);
        Assert.Equal("\uFFFD", stream.Flush());
        Assert.Equal("\uFFFD", Tok.Decode(bytes.AsSpan(1, 1)));
    }

    [Fact]
    public void StreamingDecoderSkipsSpecialTokensWhenAsked()
    {
        var ids = Tok.Encode("<|im_start|>assistant\nHi!<|im_end|>");
        var stream = Tok.CreateStreamDecoder(skipSpecial: true);
        Assert.Equal("assistant\nHi!", string.Concat(ids.Select(stream.Add)) + stream.Flush());
    }

    [Fact]
    public void DecodeRejectsIdsOutsideTheVocabulary()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Tok.Decode([1, Tok.VocabSize]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tok.Decode([-1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tok.CreateStreamDecoder().Add(Tok.VocabSize));
    }

    [Fact]
    public void HuggingFaceMergesInStringFormReadTheSameAsArrays()
    {
        // The Qwen3 file uses the [a, b] form; rewrite a copy with "a b" strings.
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(Qwen3TokenizerFixture.DataDirectory, "tokenizer.json")))!;
        var merges = json["model"]!["merges"]!.AsArray();
        var asStrings = new System.Text.Json.Nodes.JsonArray(merges.Select(m => (System.Text.Json.Nodes.JsonNode?)System.Text.Json.Nodes.JsonValue.Create($"{m![0]} {m[1]}")).ToArray());
        json["model"]!["merges"] = asStrings;
        var path = Path.Combine(Path.GetTempPath(), $"tidar-qwen3-string-merges-{Environment.ProcessId}.json");
        try
        {
            File.WriteAllText(path, json.ToJsonString());
            var data = TokenizerData.FromHuggingFace(path, null);
            Assert.Equal(qwen.Data.Merges, data.Merges);
            Assert.Null(data.EosId); // no tokenizer_config.json
        }
        finally
        {
            File.Delete(path);
        }
    }
}
