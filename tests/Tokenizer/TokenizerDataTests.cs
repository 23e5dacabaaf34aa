using TiDAR.Engine.Tokenizer;
using static TiDAR.Tests.TokenizerTestData;

namespace TiDAR.Tests;

/// <summary>TokenizerData: reading GGUF metadata and tokenizer.json, and the errors for malformed data.</summary>
public sealed class TokenizerDataTests
{
    private static InvalidDataException BadGguf(Action<Dictionary<string, object>> change)
    {
        var md = TinyBpeMetadata();
        change(md);
        return Assert.Throws<InvalidDataException>(() => TokenizerData.FromGgufMetadata(md));
    }

    [Fact]
    public void MissingOrMistypedGgufKeysAreNamed()
    {
        Assert.Contains("'tokenizer.ggml.model' is missing", BadGguf(md => md.Remove("tokenizer.ggml.model")).Message);
        Assert.Contains("'tokenizer.ggml.tokens' is missing", BadGguf(md => md.Remove("tokenizer.ggml.tokens")).Message);
        Assert.Contains("'tokenizer.ggml.merges' is missing", BadGguf(md => md.Remove("tokenizer.ggml.merges")).Message);
        Assert.Contains("'tokenizer.ggml.tokens'", BadGguf(md => md["tokenizer.ggml.tokens"] = new[] { 1, 2, 3 }).Message);
        Assert.Contains("'tokenizer.ggml.model'", BadGguf(md => md["tokenizer.ggml.model"] = 7u).Message);
        Assert.Contains("'tokenizer.ggml.add_bos_token'", BadGguf(md => md["tokenizer.ggml.add_bos_token"] = "yes").Message);
        Assert.Contains("'tokenizer.ggml.eos_token_id'", BadGguf(md => md["tokenizer.ggml.eos_token_id"] = "263").Message);
        Assert.Contains("'tokenizer.ggml.scores'", BadGguf(md => md["tokenizer.ggml.scores"] = new[] { "x" }).Message);
    }

    [Fact]
    public void InconsistentGgufDataIsRejected()
    {
        Assert.Contains("'tokenizer.ggml.token_type' has 3 entries", BadGguf(md => md["tokenizer.ggml.token_type"] = new[] { 1, 1, 1 }).Message);
        Assert.Contains("'tokenizer.ggml.token_type'[0] = 9", BadGguf(md => ((int[])md["tokenizer.ggml.token_type"])[0] = 9).Message);
        Assert.Contains($"'tokenizer.ggml.bos_token_id' = {TinyBpeSize} is out of range", BadGguf(md => md["tokenizer.ggml.bos_token_id"] = (uint)TinyBpeSize).Message);
        Assert.Contains("'tokenizer.ggml.eos_token_id' = 5000 is out of range", BadGguf(md => md["tokenizer.ggml.eos_token_id"] = 5000u).Message);
        Assert.Contains("\"zz\" is not in 'tokenizer.ggml.tokens'", BadGguf(md => md["tokenizer.ggml.merges"] = new[] { "h e", "zz e" }).Message);
        Assert.Contains("the merged token \"hl\" is not in 'tokenizer.ggml.tokens'", BadGguf(md => md["tokenizer.ggml.merges"] = new[] { "h e", "h l" }).Message);
        Assert.Contains("'tokenizer.ggml.merges'[1] = \"he\" is not of the form \"a b\"", BadGguf(md => md["tokenizer.ggml.merges"] = new[] { "h e", "he" }).Message);
        Assert.Contains("'tokenizer.ggml.merges' is empty", BadGguf(md => md["tokenizer.ggml.merges"] = Array.Empty<string>()).Message);
        Assert.Contains("'tokenizer.ggml.tokens' is empty", BadGguf(md =>
        {
            md["tokenizer.ggml.tokens"] = Array.Empty<string>();
            md["tokenizer.ggml.token_type"] = Array.Empty<int>();
            md.Remove("tokenizer.ggml.eos_token_id");
        }).Message);
        Assert.Contains("'tokenizer.ggml.scores' has 2 entries", BadGguf(md => md["tokenizer.ggml.scores"] = new[] { 0f, 1f }).Message);
    }

    [Fact]
    public void SentencePieceNeedsScores()
    {
        var md = TinySentencePieceMetadata();
        md.Remove("tokenizer.ggml.scores");
        var e = Assert.Throws<InvalidDataException>(() => TokenizerData.FromGgufMetadata(md));
        Assert.Contains("'tokenizer.ggml.scores' is missing", e.Message);
    }

    [Fact]
    public void UnsupportedModelKindsAreCarriedButNotTokenized()
    {
        var md = TinyBpeMetadata();
        md["tokenizer.ggml.model"] = "bert";
        var data = TokenizerData.FromGgufMetadata(md);
        var e = Assert.Throws<NotSupportedException>(() => new TextTokenizer(data));
        Assert.Contains("'bert'", e.Message);
    }

    [Fact]
    public void HandBuiltDataIsValidatedByTheTokenizer()
    {
        var e = Assert.Throws<InvalidDataException>(() => new TextTokenizer(TinyBpe() with { PadId = -3 }));
        Assert.Contains("'tokenizer.ggml.padding_token_id' = -3", e.Message);
        Assert.Throws<InvalidDataException>(() => (TinyBpe() with { TokenTypes = [TokenType.Normal] }).ToGgufMetadata());
        Assert.Throws<ArgumentException>(() => TinyBpe().WithVocabSize(10));
    }

    [Fact]
    public void ToGgufMetadataUsesLlamaCppTypes()
    {
        var data = TinyBpe() with { BosId = 1, PadId = 2, UnknownId = 3, AddBos = true, AddEos = false, ChatTemplate = "{{ x }}" };
        var md = data.ToGgufMetadata();
        Assert.Equal("gpt2", Assert.IsType<string>(md["tokenizer.ggml.model"]));
        Assert.Equal("qwen2", Assert.IsType<string>(md["tokenizer.ggml.pre"]));
        Assert.Equal(TinyBpeSize, Assert.IsType<string[]>(md["tokenizer.ggml.tokens"]).Length);
        Assert.Equal(3, Assert.IsType<int[]>(md["tokenizer.ggml.token_type"])[End]);
        Assert.Equal("h e", Assert.IsType<string[]>(md["tokenizer.ggml.merges"])[0]);
        Assert.Equal(1u, Assert.IsType<uint>(md["tokenizer.ggml.bos_token_id"]));
        Assert.Equal((uint)End, Assert.IsType<uint>(md["tokenizer.ggml.eos_token_id"]));
        Assert.Equal(2u, Assert.IsType<uint>(md["tokenizer.ggml.padding_token_id"]));
        Assert.Equal(3u, Assert.IsType<uint>(md["tokenizer.ggml.unknown_token_id"]));
        Assert.True(Assert.IsType<bool>(md["tokenizer.ggml.add_bos_token"]));
        Assert.False(Assert.IsType<bool>(md["tokenizer.ggml.add_eos_token"]));
        Assert.Equal("{{ x }}", Assert.IsType<string>(md["tokenizer.chat_template"]));
        Assert.False(md.ContainsKey("tokenizer.ggml.scores"));
        Assert.False(md.ContainsKey("tokenizer.ggml.add_space_prefix"));

        var back = TokenizerData.FromGgufMetadata(md);
        Assert.Equal((1, End, 2, 3, true, false, "{{ x }}"), (back.BosId!.Value, back.EosId!.Value, back.PadId!.Value, back.UnknownId!.Value, back.AddBos, back.AddEos!.Value, back.ChatTemplate));
        var tok = new TextTokenizer(back);
        Assert.Equal(new[] { 1, Hello }, tok.Encode("hello", addSpecialTokens: true));
    }

    // ---------------------------------------------------------------- tokenizer.json

    private static string WriteTemp(string name, string content)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"tidar-tok-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    private static string TinyTokenizerJson(string merges, string preTokenizer) => $$"""
        {
          "version": "1.0",
          "added_tokens": [
            { "id": 7, "content": "<|im_start|>", "special": true },
            { "id": 8, "content": "<|im_end|>", "special": true },
            { "id": 9, "content": "<think>", "special": false },
            { "id": 10, "content": "<|fim_pad|>", "special": false }
          ],
          "normalizer": null,
          "pre_tokenizer": {{preTokenizer}},
          "decoder": { "type": "ByteLevel" },
          "model": {
            "type": "BPE",
            "vocab": { "a": 0, "b": 1, "c": 2, "Ġ": 3, "ab": 4, "abc": 5, "Ġa": 6 },
            "merges": {{merges}}
          }
        }
        """;

    private const string QwenPre = """
        { "type": "Sequence", "pretokenizers": [
          { "type": "Split", "pattern": { "Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" }, "behavior": "Isolated", "invert": false },
          { "type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false } ] }
        """;

    private const string Llama3Pre = """
        { "type": "Sequence", "pretokenizers": [
          { "type": "Split", "pattern": { "Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" }, "behavior": "Isolated", "invert": false },
          { "type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false } ] }
        """;

    [Fact]
    public void HuggingFaceJsonWithStringOrArrayMerges()
    {
        var fromStrings = TokenizerData.FromHuggingFace(WriteTemp("tokenizer.json", TinyTokenizerJson("""["a b", "ab c", "Ġ a"]""", QwenPre)), null);
        var fromArrays = TokenizerData.FromHuggingFace(WriteTemp("tokenizer.json", TinyTokenizerJson("""[["a", "b"], ["ab", "c"], ["Ġ", "a"]]""", QwenPre)), null);
        Assert.Equal(new[] { "a b", "ab c", "Ġ a" }, fromStrings.Merges);
        Assert.Equal(fromStrings.Merges, fromArrays.Merges);
        Assert.Equal("qwen2", fromStrings.Pre);
        Assert.Equal("gpt2", fromStrings.Model);
        Assert.Equal(11, fromStrings.VocabSize);
        Assert.Equal(TokenType.Control, fromStrings.TokenTypes[7]);
        Assert.Equal(TokenType.UserDefined, fromStrings.TokenTypes[9]);
        Assert.Equal(TokenType.Control, fromStrings.TokenTypes[10]); // not flagged special but looks like <|...|>
        Assert.Equal(new[] { 7, 8, 10 }, fromStrings.SpecialTokenIds.Order());
        Assert.False(fromStrings.AddBos);

        var tok = new TextTokenizer(fromStrings);
        Assert.Equal(new[] { 7, 5, 6, 9, 8 }, tok.Encode("<|im_start|>abc a<think><|im_end|>"));
        Assert.Equal("<|im_start|>abc a<think><|im_end|>", tok.Decode([7, 5, 6, 9, 8]));
    }

    [Fact]
    public void HuggingFacePreTokenizerNames()
    {
        string Pre(string pre) => TokenizerData.FromHuggingFace(WriteTemp("tokenizer.json", TinyTokenizerJson("""["a b"]""", pre)), null).Pre;
        Assert.Equal("qwen2", Pre(QwenPre));
        Assert.Equal("llama-bpe", Pre(Llama3Pre));
        Assert.Equal("gpt2", Pre("""{ "type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true }"""));
        Assert.Equal("default", Pre("""{ "type": "Sequence", "pretokenizers": [ { "type": "Split", "pattern": { "Regex": "\\w+" }, "behavior": "Isolated" }, { "type": "ByteLevel", "use_regex": false } ] }"""));
    }

    [Fact]
    public void HuggingFaceConfigGivesSpecialTokensAndTemplate()
    {
        var json = WriteTemp("tokenizer.json", TinyTokenizerJson("""["a b"]""", QwenPre));
        var config = Path.Combine(Path.GetDirectoryName(json)!, "tokenizer_config.json");
        File.WriteAllText(config, """
            {
              "add_bos_token": true,
              "bos_token": { "content": "<|im_start|>", "special": true },
              "eos_token": "<|im_end|>",
              "pad_token": null,
              "chat_template": [ { "name": "tool_use", "template": "T" }, { "name": "default", "template": "D" } ]
            }
            """);
        var data = TokenizerData.FromHuggingFace(json, config);
        Assert.Equal(7, data.BosId);
        Assert.Equal(8, data.EosId);
        Assert.Null(data.PadId);
        Assert.True(data.AddBos);
        Assert.Equal("D", data.ChatTemplate);

        File.WriteAllText(config, """{ "eos_token": "<|nope|>" }""");
        var e = Assert.Throws<InvalidDataException>(() => TokenizerData.FromHuggingFace(json, config));
        Assert.Contains("'eos_token' = \"<|nope|>\" is not in the vocabulary", e.Message);
    }

    [Fact]
    public void MalformedHuggingFaceJsonGetsClearErrors()
    {
        Assert.Contains("not valid JSON", Assert.Throws<InvalidDataException>(() =>
            TokenizerData.FromHuggingFace(WriteTemp("tokenizer.json", "{ \"model\": "), null)).Message);
        Assert.Contains("'model' is missing", Assert.Throws<InvalidDataException>(() =>
            TokenizerData.FromHuggingFace(WriteTemp("tokenizer.json", "{}"), null)).Message);
        Assert.Contains("'model.vocab' is missing", Assert.Throws<InvalidDataException>(() =>
            TokenizerData.FromHuggingFace(WriteTemp("tokenizer.json", """{ "pre_tokenizer": { "type": "ByteLevel" }, "model": { "type": "BPE", "merges": [] } }"""), null)).Message);
        Assert.Contains("model.merges[1]", Assert.Throws<InvalidDataException>(() =>
            TokenizerData.FromHuggingFace(WriteTemp("tokenizer.json", TinyTokenizerJson("""["a b", 3]""", QwenPre)), null)).Message);
        Assert.Contains("\"x\" is not in 'tokenizer.ggml.tokens'", Assert.Throws<InvalidDataException>(() =>
            TokenizerData.FromHuggingFace(WriteTemp("tokenizer.json", TinyTokenizerJson("""["a x"]""", QwenPre)), null)).Message);
        Assert.Contains("Unigram", Assert.Throws<NotSupportedException>(() =>
            TokenizerData.FromHuggingFace(WriteTemp("tokenizer.json", """{ "model": { "type": "Unigram", "vocab": [["a", 0.0]] } }"""), null)).Message);
        Assert.Throws<FileNotFoundException>(() => TokenizerData.FromHuggingFace("/nonexistent/tokenizer.json", null));
        Assert.Throws<ArgumentException>(() => TokenizerData.FromHuggingFace("", null));
    }

    [Fact]
    public void HuggingFaceSentencePieceStyleBpeBecomesLlama()
    {
        // Llama-2 style: byte fallback, ▁ for spaces, <s> added by the post-processor.
        var vocab = new List<string> { "<unk>", "<s>", "</s>" };
        for (int b = 0; b < 256; b++) vocab.Add($"<0x{b:X2}>");
        vocab.AddRange(["▁", "a", "b", "ab", "▁ab"]);
        string vocabJson = string.Join(", ", vocab.Select((t, i) => $"\"{t}\": {i}"));
        var json = WriteTemp("tokenizer.json", $$"""
            {
              "added_tokens": [ { "id": 0, "content": "<unk>", "special": true }, { "id": 1, "content": "<s>", "special": true }, { "id": 2, "content": "</s>", "special": true } ],
              "normalizer": { "type": "Sequence", "normalizers": [ { "type": "Prepend", "prepend": "▁" }, { "type": "Replace", "pattern": { "String": " " }, "content": "▁" } ] },
              "pre_tokenizer": null,
              "post_processor": { "type": "TemplateProcessing", "single": [ { "SpecialToken": { "id": "<s>", "type_id": 0 } }, { "Sequence": { "id": "A", "type_id": 0 } } ] },
              "decoder": { "type": "Sequence", "decoders": [ { "type": "Replace", "pattern": { "String": "▁" }, "content": " " }, { "type": "ByteFallback" }, { "type": "Fuse" } ] },
              "model": { "type": "BPE", "unk_token": "<unk>", "byte_fallback": true, "vocab": { {{vocabJson}} }, "merges": [ "a b", "▁ ab" ] }
            }
            """);
        var data = TokenizerData.FromHuggingFace(json, null);
        Assert.Equal("llama", data.Model);
        Assert.Equal(1, data.BosId);
        Assert.True(data.AddBos);
        Assert.Equal(0, data.UnknownId);
        Assert.Equal(TokenType.Unknown, data.TokenTypes[0]);
        Assert.Equal(TokenType.Control, data.TokenTypes[1]);
        Assert.Equal(TokenType.Byte, data.TokenTypes[3 + 'z']);
        Assert.NotNull(data.Scores);
        var tok = new TextTokenizer(data);
        int spaceAb = vocab.IndexOf("▁ab");
        Assert.Equal(new[] { 1, spaceAb, 3 + 'c' }, tok.Encode("abc", addSpecialTokens: true));
        Assert.Equal("abc", tok.Decode(tok.Encode("abc", addSpecialTokens: true), skipSpecial: true));
    }
}
