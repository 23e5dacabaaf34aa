using System.Text;
using TiDAR.Engine.Tokenizer;
using static TiDAR.Tests.TokenizerTestData;

namespace TiDAR.Tests;

/// <summary>TextTokenizer on hand-made vocabularies with encodings worked out by hand.</summary>
public sealed class TinyTokenizerTests
{
    [Fact]
    public void ByteLevelBpeAppliesMergesInPriorityOrder()
    {
        var tok = new TextTokenizer(TinyBpe());
        // "hello" -> h e l l o -> he l l o -> he ll o -> hell o -> hello;  " world" -> Ġw o r l d -> Ġw or l d -> Ġwor l d.
        Assert.Equal(new[] { Hello, GWor, 'l', 'd' }, tok.Encode("hello world"));
        Assert.Equal(new[] { He, 'l' }, tok.Encode("hel"));
        Assert.Equal(new[] { Ll, 'l' }, tok.Encode("lll")); // leftmost pair first
        Assert.Equal(new[] { Ab, 'c' }, tok.Encode("abc")); // "abc" is in the vocabulary but no merge makes it
        Assert.Equal(new[] { 0xC3, 0xA9 }, tok.Encode("é")); // bytes of a character without a merge
        Assert.Equal(new[] { Hello, End, 'x' }, tok.Encode("hello<|end|>x"));
        Assert.Equal("hello world", tok.Decode(tok.Encode("hello world")));
        Assert.Equal("hello<|end|>x", tok.Decode([Hello, End, 'x']));
        Assert.Equal("hellox", tok.Decode([Hello, End, 'x'], skipSpecial: true));
        Assert.Equal(TinyBpeSize, tok.VocabSize);
        Assert.True(tok.IsSpecial(End));
        Assert.Equal(new HashSet<int> { End }, tok.EndOfGenerationIds.ToHashSet());
        Assert.Null(tok.BosId);
    }

    [Fact]
    public void LlamaBpeIgnoresMergesForWholeWordsInTheVocabulary()
    {
        var tok = new TextTokenizer(TinyBpe("llama-bpe"));
        Assert.Equal(new[] { Abc }, tok.Encode("abc"));
        Assert.Equal(new[] { Hello, GWor, 'l', 'd' }, tok.Encode("hello world"));
        Assert.Null(tok.PreTokenizerNote);
    }

    [Fact]
    public void PreTokenizerRegexesGroupDigitsAsTheirModelsDo()
    {
        // qwen2: one digit per pre-token; llama-bpe: up to three; gpt2: the whole run, so "3 4" can merge first.
        Assert.Equal(new[] { (int)'1', '2', '3', '4' }, new TextTokenizer(TinyBpe("qwen2")).Encode("1234"));
        Assert.Equal(new[] { N123, '4' }, new TextTokenizer(TinyBpe("llama-bpe")).Encode("1234"));
        Assert.Equal(new[] { N12, N34 }, new TextTokenizer(TinyBpe("gpt2")).Encode("1234"));
        Assert.Equal(PreTokenizers.Qwen2Pattern, PreTokenizers.Resolve("qwen2").Pattern);
        Assert.Equal(PreTokenizers.Llama3Pattern, PreTokenizers.Resolve("llama-bpe").Pattern);
        Assert.True(PreTokenizers.Resolve("llama-bpe").IgnoreMerges);
        Assert.Equal(PreTokenizers.Gpt2Pattern, PreTokenizers.Resolve("gpt2").Pattern);
    }

    [Fact]
    public void UnknownPreTokenizerFallsBackToGpt2WithANote()
    {
        var tok = new TextTokenizer(TinyBpe("some-future-model"));
        Assert.Contains("some-future-model", tok.PreTokenizerNote);
        Assert.Equal(new[] { Hello, GWor, 'l', 'd' }, tok.Encode("hello world"));
        Assert.NotNull(new TextTokenizer(TinyBpe("default")).PreTokenizerNote);
    }

    [Fact]
    public void SentencePieceFromGgufScoresMergesLikeLlamaCpp()
    {
        var tok = TextTokenizer.FromGgufMetadata(TinySentencePieceMetadata());
        // "▁ab" outranks "abc"; "d" has no piece and falls back to its byte.
        Assert.Equal(new[] { SpBos, SpSpaceAb, SpC, SpSpaceAb, SpByte0 + 'd' }, tok.Encode("abc abd", addSpecialTokens: true));
        Assert.Equal(new[] { SpSpaceAb, SpC, SpSpaceAb, SpByte0 + 'd' }, tok.Encode("abc abd"));
        Assert.Equal("abc abd", tok.Decode(tok.Encode("abc abd", addSpecialTokens: true), skipSpecial: true));
        Assert.Equal("abc abd", tok.Decode(tok.Encode("abc abd")));
        // Multi-byte characters go through byte fallback and decode back.
        Assert.Equal("héllo  ab", tok.Decode(tok.Encode("héllo  ab")));
        // User-defined tokens are matched in text; the text after them gets the space prefix again, like llama.cpp.
        Assert.Equal(new[] { SpSpace, SpByte0 + 'x', SpUser, SpSpaceAb }, tok.Encode("x<|user|>ab"));
        Assert.Equal(SpBos, tok.BosId);
        Assert.Equal(SpEos, tok.EosId);
        Assert.True(tok.IsSpecial(SpBos));
        Assert.False(tok.IsSpecial(SpUser));
        Assert.Equal(new HashSet<int> { SpEos }, tok.EndOfGenerationIds.ToHashSet());

        var stream = tok.CreateStreamDecoder(skipSpecial: true);
        var ids = tok.Encode("héllo ab", addSpecialTokens: true);
        Assert.Equal("héllo ab", string.Concat(ids.Select(stream.Add)) + stream.Flush());
    }

    [Fact]
    public void SentencePieceWithoutSpacePrefix()
    {
        var md = TinySentencePieceMetadata();
        md["tokenizer.ggml.add_space_prefix"] = false;
        var tok = TextTokenizer.FromGgufMetadata(md);
        Assert.Equal(new[] { SpAbc, SpSpaceAb, SpByte0 + 'd' }, tok.Encode("abc abd")); // "▁ab" first, then "abc"
        Assert.Equal(" abc", tok.Decode(tok.Encode(" abc")));
        var back = TokenizerData.FromGgufMetadata(tok.Data.ToGgufMetadata());
        Assert.False(back.AddSpacePrefix);
        Assert.IsType<float[]>(tok.Data.ToGgufMetadata()["tokenizer.ggml.scores"]);
    }

    [Fact]
    public void GgufMetadataAcceptsOtherIntegerTypes()
    {
        var md = TinyBpeMetadata();
        md["tokenizer.ggml.token_type"] = ((int[])md["tokenizer.ggml.token_type"]).Select(t => (uint)t).ToArray();
        md["tokenizer.ggml.eos_token_id"] = (ulong)End;
        md["tokenizer.ggml.bos_token_id"] = -1; // "none"
        var data = TokenizerData.FromGgufMetadata(md);
        Assert.Equal(End, data.EosId);
        Assert.Null(data.BosId);
        Assert.Equal(TokenType.Control, data.TokenTypes[End]);
        Assert.Equal(new[] { Hello }, new TextTokenizer(data).Encode("hello"));
    }

    [Fact]
    public void TokenTypesDefaultToNormalWhenAbsent()
    {
        var md = TinyBpeMetadata();
        md.Remove("tokenizer.ggml.token_type");
        var data = TokenizerData.FromGgufMetadata(md);
        Assert.All(data.TokenTypes, t => Assert.Equal(TokenType.Normal, t));
    }

    [Fact]
    public void StreamDecoderCompleteLengthHoldsOnlyIncompleteSequences()
    {
        var tok = new TextTokenizer(TinyBpe());
        foreach (var text in new[] { "a", "é", "€", "😀", "a😀é€b" })
        {
            var ids = Encoding.UTF8.GetBytes(text).Select(b => (int)b).ToArray(); // ids 0..255 are bytes
            var stream = tok.CreateStreamDecoder();
            var sb = new StringBuilder();
            foreach (var id in ids) sb.Append(stream.Add(id));
            Assert.Equal(text, sb.ToString());
            Assert.Equal(0, stream.PendingByteCount);
        }
        // Invalid sequences give the same U+FFFD as Decode, whether streamed or not.
        int[] bad = [0xE2, 0x82, 'x', 0x80, 0xFF, 0xF0, 0x9F];
        var s = tok.CreateStreamDecoder();
        Assert.Equal(tok.Decode(bad), string.Concat(bad.Select(s.Add)) + s.Flush());
    }
}
