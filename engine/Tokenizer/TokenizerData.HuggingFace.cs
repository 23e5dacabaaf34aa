using System.Text.Json;

namespace TiDAR.Engine.Tokenizer;

public sealed partial record TokenizerData
{
    /// <summary>
    /// Reads a Hugging Face <c>tokenizer.json</c> (and optionally <c>tokenizer_config.json</c>) the way llama.cpp's
    /// converter does.
    /// <list type="bullet">
    /// <item>A BPE model with a ByteLevel pre-tokenizer or decoder becomes "gpt2"; a BPE model with Metaspace / byte
    /// fallback (Llama-2 style) becomes "llama" with scores derived from the merge ranks (a merge of rank r gives its
    /// result the score -r). Other model types (Unigram, WordPiece) throw <see cref="NotSupportedException"/>.</item>
    /// <item>model.vocab plus added_tokens; ids without a token become <c>[PAD{id}]</c> (unused). Added tokens marked
    /// special, or looking special (<c>&lt;|...|&gt;</c>), are control tokens; other added tokens are user-defined.</item>
    /// <item>model.merges in either form, "a b" or ["a", "b"].</item>
    /// <item>The pre-tokenizer Split regex of Qwen2 maps to "qwen2", Llama-3's to "llama-bpe", GPT-2's (or a ByteLevel
    /// pre-tokenizer with use_regex) to "gpt2", anything else to "default".</item>
    /// <item>From tokenizer_config.json when given: bos/eos/pad/unk tokens, add_bos_token, add_eos_token and
    /// chat_template (or a chat_template.jinja file next to it). Without it, BOS comes from a TemplateProcessing
    /// post-processor when there is one.</item>
    /// </list>
    /// The vocabulary is not padded to the model's embedding size; use <see cref="WithVocabSize"/> for that.
    /// </summary>
    /// <exception cref="ArgumentException">A path is null or empty.</exception>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="InvalidDataException">The JSON is malformed or a required field is missing or inconsistent.</exception>
    /// <exception cref="NotSupportedException">The tokenizer model type is not BPE.</exception>
    public static TokenizerData FromHuggingFace(string tokenizerJsonPath, string? tokenizerConfigJsonPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(tokenizerJsonPath);
        using var doc = ParseJson(tokenizerJsonPath);
        JsonDocument? configDoc = null;
        if (!string.IsNullOrEmpty(tokenizerConfigJsonPath)) configDoc = ParseJson(tokenizerConfigJsonPath);
        try
        {
            return FromHuggingFace(doc.RootElement, configDoc?.RootElement, tokenizerJsonPath, tokenizerConfigJsonPath);
        }
        finally
        {
            configDoc?.Dispose();
        }
    }

    private static JsonDocument ParseJson(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"'{path}' does not exist", path);
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { AllowTrailingCommas = true, MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}", e);
        }
    }

    private static TokenizerData FromHuggingFace(JsonElement root, JsonElement? config, string jsonPath, string? configPath)
    {
        string where = Path.GetFileName(jsonPath);
        if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{where}: the top level is not a JSON object");
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{where}: 'model' is missing");
        string modelType = model.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "BPE";
        if (modelType != "BPE")
            throw new NotSupportedException($"{where}: model.type '{modelType}' is not supported; only BPE tokenizers (byte-level or SentencePiece-style) can be converted");

        root.TryGetProperty("pre_tokenizer", out var preTokenizer);
        root.TryGetProperty("decoder", out var decoder);
        root.TryGetProperty("normalizer", out var normalizer);
        bool byteLevel = HasType(preTokenizer, "ByteLevel") || HasType(decoder, "ByteLevel");
        bool byteFallback = model.TryGetProperty("byte_fallback", out var bf) && bf.ValueKind == JsonValueKind.True;
        bool metaspace = HasType(preTokenizer, "Metaspace") || HasType(decoder, "Metaspace") || ReplacesSpaceWithMetaspace(normalizer);
        string kind = byteLevel ? ModelGpt2
            : byteFallback || metaspace ? ModelLlama
            : throw new NotSupportedException($"{where}: a BPE model without a ByteLevel or Metaspace/byte-fallback setup is not supported");

        // Vocabulary.
        if (!model.TryGetProperty("vocab", out var vocabJson) || vocabJson.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{where}: 'model.vocab' is missing or not an object");
        var byId = new Dictionary<int, string>();
        foreach (var p in vocabJson.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out int id) || id < 0)
                throw new InvalidDataException($"{where}: model.vocab[\"{p.Name}\"] is not a non-negative integer id");
            if (!byId.TryAdd(id, p.Name))
                throw new InvalidDataException($"{where}: model.vocab maps both \"{byId[id]}\" and \"{p.Name}\" to id {id}");
        }

        var added = new List<(int Id, string Content, bool Special)>();
        if (root.TryGetProperty("added_tokens", out var addedJson) && addedJson.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (var a in addedJson.EnumerateArray())
            {
                if (a.ValueKind != JsonValueKind.Object
                    || !a.TryGetProperty("id", out var idJson) || !idJson.TryGetInt32(out int id) || id < 0
                    || !a.TryGetProperty("content", out var contentJson) || contentJson.ValueKind != JsonValueKind.String)
                    throw new InvalidDataException($"{where}: added_tokens[{i}] needs a non-negative 'id' and a string 'content'");
                bool special = a.TryGetProperty("special", out var sp) && sp.ValueKind == JsonValueKind.True;
                added.Add((id, contentJson.GetString()!, special));
                i++;
            }
        }

        int count = Math.Max(byId.Count == 0 ? 0 : byId.Keys.Max() + 1, added.Count == 0 ? 0 : added.Max(a => a.Id) + 1);
        if (count == 0) throw new InvalidDataException($"{where}: 'model.vocab' is empty");
        var tokens = new string[count];
        var types = new TokenType[count];
        for (int id = 0; id < count; id++)
        {
            if (byId.TryGetValue(id, out var tok))
            {
                tokens[id] = tok;
                types[id] = kind == ModelLlama && IsByteToken(tok) ? TokenType.Byte : TokenType.Normal;
            }
            else
            {
                tokens[id] = $"[PAD{id}]";
                types[id] = TokenType.Unused;
            }
        }
        foreach (var (id, content, special) in added)
        {
            if (special || LooksSpecial(content))
            {
                tokens[id] = content;
                types[id] = TokenType.Control;
            }
            else
            {
                // llama.cpp stores user-defined SentencePiece tokens with real spaces.
                tokens[id] = kind == ModelLlama ? content.Replace('\u2581', ' ') : content;
                types[id] = TokenType.UserDefined;
            }
        }

        // Merges.
        var merges = new List<string>();
        if (model.TryGetProperty("merges", out var mergesJson) && mergesJson.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (var m in mergesJson.EnumerateArray())
            {
                string merge;
                if (m.ValueKind == JsonValueKind.String) merge = m.GetString()!;
                else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2
                         && m[0].ValueKind == JsonValueKind.String && m[1].ValueKind == JsonValueKind.String)
                {
                    string a = m[0].GetString()!, b = m[1].GetString()!;
                    if (a.Contains(' ') || b.Contains(' '))
                        throw new InvalidDataException($"{where}: model.merges[{i}] [\"{a}\", \"{b}\"] contains a space, which GGUF's \"a b\" form cannot hold");
                    merge = a + " " + b;
                }
                else throw new InvalidDataException($"{where}: model.merges[{i}] is neither \"a b\" nor [\"a\", \"b\"]");
                merges.Add(merge);
                i++;
            }
        }
        else if (kind == ModelGpt2)
        {
            throw new InvalidDataException($"{where}: 'model.merges' is missing");
        }

        // Scores for SentencePiece-style BPE: a merge of rank r gives its result the score -r (earlier merges win).
        float[]? scores = null;
        if (kind == ModelLlama)
        {
            var tokenIds = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int id = 0; id < count; id++) tokenIds.TryAdd(tokens[id], id);
            scores = new float[count];
            Array.Fill(scores, -1e9f);
            for (int id = 0; id < count; id++)
                if (types[id] != TokenType.Normal || tokens[id].Length == 1) scores[id] = 0f;
            for (int r = 0; r < merges.Count; r++)
            {
                if (TrySplitMerge(merges[r], out var a, out var b) && tokenIds.TryGetValue(a + b, out int id) && scores[id] <= -1e9f)
                    scores[id] = -r;
            }
        }

        string pre = kind == ModelGpt2 ? PreNameFor(preTokenizer) : "default";
        int? unkId = null;
        if (model.TryGetProperty("unk_token", out var unkJson) && unkJson.ValueKind == JsonValueKind.String)
        {
            unkId = IdOf(unkJson.GetString()!, tokens);
            // SentencePiece's <unk> is an "unknown" piece even though tokenizer.json lists it as a special added token.
            if (unkId is int u && (types[u] == TokenType.Normal || kind == ModelLlama)) types[u] = TokenType.Unknown;
        }

        // Special tokens and flags: tokenizer_config.json first, then the post-processor.
        int? bos = null, eos = null, pad = null;
        bool? addBos = null, addEos = null;
        string? chatTemplate = null;
        if (config is JsonElement c && c.ValueKind == JsonValueKind.Object)
        {
            string cfgName = Path.GetFileName(configPath!);
            bos = ConfigTokenId(c, "bos_token", tokens, cfgName);
            eos = ConfigTokenId(c, "eos_token", tokens, cfgName);
            pad = ConfigTokenId(c, "pad_token", tokens, cfgName, required: false);
            unkId = ConfigTokenId(c, "unk_token", tokens, cfgName, required: false) ?? unkId;
            if (c.TryGetProperty("add_bos_token", out var ab) && ab.ValueKind is JsonValueKind.True or JsonValueKind.False) addBos = ab.GetBoolean();
            if (c.TryGetProperty("add_eos_token", out var ae) && ae.ValueKind is JsonValueKind.True or JsonValueKind.False) addEos = ae.GetBoolean();
            chatTemplate = ChatTemplateOf(c);
            if (chatTemplate is null)
            {
                var jinja = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(configPath!))!, "chat_template.jinja");
                if (File.Exists(jinja)) chatTemplate = File.ReadAllText(jinja);
            }
        }
        if (PostProcessorPrefix(root, tokens) is int prefix)
        {
            bos ??= prefix;
            addBos ??= bos == prefix;
        }

        var data = new TokenizerData
        {
            Model = kind,
            Pre = pre,
            Tokens = tokens,
            TokenTypes = types,
            Merges = merges,
            Scores = scores,
            BosId = bos,
            EosId = eos,
            PadId = pad,
            UnknownId = unkId,
            AddBos = addBos ?? kind == ModelLlama,
            AddEos = addEos,
            AddSpacePrefix = kind == ModelLlama ? AddsPrefixSpace(preTokenizer, normalizer) : null,
            ChatTemplate = chatTemplate,
        };
        try
        {
            data.Validate();
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{where}: {e.Message}", e);
        }
        return data;
    }

    /// <summary>Like llama.cpp's converter: added tokens that are not flagged special but look like control tokens.</summary>
    private static bool LooksSpecial(string token) =>
        token is "<pad>" or "<mask>" or "<2mass>" or "[@BOS@]"
        || (token.StartsWith("<|", StringComparison.Ordinal) && token.EndsWith("|>", StringComparison.Ordinal) && token.Length >= 4)
        || (token.StartsWith("<\uFF5C", StringComparison.Ordinal) && token.EndsWith("\uFF5C>", StringComparison.Ordinal) && token.Length >= 4)
        || (token.StartsWith("<unused", StringComparison.Ordinal) && token.EndsWith('>'));

    private static bool IsByteToken(string token) =>
        token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>'
        && Uri.IsHexDigit(token[3]) && Uri.IsHexDigit(token[4]);

    /// <summary>Whether a (possibly Sequence) component has an element of the given type.</summary>
    private static bool HasType(JsonElement e, string type)
    {
        if (e.ValueKind != JsonValueKind.Object) return false;
        if (e.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == type) return true;
        foreach (var listName in new[] { "pretokenizers", "decoders", "normalizers", "processors" })
            if (e.TryGetProperty(listName, out var list) && list.ValueKind == JsonValueKind.Array)
                foreach (var item in list.EnumerateArray())
                    if (HasType(item, type)) return true;
        return false;
    }

    private static IEnumerable<JsonElement> Flatten(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object) yield break;
        yield return e;
        foreach (var listName in new[] { "pretokenizers", "decoders", "normalizers" })
            if (e.TryGetProperty(listName, out var list) && list.ValueKind == JsonValueKind.Array)
                foreach (var item in list.EnumerateArray())
                    foreach (var x in Flatten(item)) yield return x;
    }

    private static bool ReplacesSpaceWithMetaspace(JsonElement normalizer) =>
        Flatten(normalizer).Any(n => n.TryGetProperty("type", out var t) && t.GetString() == "Replace"
            && n.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String && c.GetString() == "\u2581");

    private static bool AddsPrefixSpace(JsonElement preTokenizer, JsonElement normalizer)
    {
        foreach (var p in Flatten(preTokenizer))
        {
            if (!(p.TryGetProperty("type", out var t) && t.GetString() == "Metaspace")) continue;
            if (p.TryGetProperty("prepend_scheme", out var ps) && ps.ValueKind == JsonValueKind.String) return ps.GetString() != "never";
            if (p.TryGetProperty("add_prefix_space", out var aps) && aps.ValueKind is JsonValueKind.True or JsonValueKind.False) return aps.GetBoolean();
            return true;
        }
        // Llama-2 style tokenizer.json: normalizer Sequence [Prepend "▁", Replace " " -> "▁"].
        return Flatten(normalizer).Any(n => n.TryGetProperty("type", out var t) && t.GetString() == "Prepend");
    }

    /// <summary>llama.cpp's pre name for a tokenizer.json pre_tokenizer.</summary>
    private static string PreNameFor(JsonElement preTokenizer)
    {
        foreach (var p in Flatten(preTokenizer))
        {
            if (p.TryGetProperty("type", out var t) && t.GetString() == "Split"
                && p.TryGetProperty("pattern", out var pattern) && pattern.ValueKind == JsonValueKind.Object
                && pattern.TryGetProperty("Regex", out var regex) && regex.ValueKind == JsonValueKind.String)
                return PreTokenizers.NameForPattern(regex.GetString()!) ?? "default";
        }
        foreach (var p in Flatten(preTokenizer))
        {
            if (p.TryGetProperty("type", out var t) && t.GetString() == "ByteLevel"
                && !(p.TryGetProperty("use_regex", out var ur) && ur.ValueKind == JsonValueKind.False))
                return "gpt2";
        }
        return "default";
    }

    private static int? IdOf(string token, string[] tokens)
    {
        // Added/special tokens sit at the end of the vocabulary; search from there.
        for (int i = tokens.Length - 1; i >= 0; i--)
            if (tokens[i] == token) return i;
        return null;
    }

    /// <summary>bos_token / eos_token / ... of tokenizer_config.json: null, a string, or an AddedToken object.
    /// A token missing from the vocabulary is an error when <paramref name="required"/>, else ignored.</summary>
    private static int? ConfigTokenId(JsonElement config, string name, string[] tokens, string where, bool required = true)
    {
        if (!config.TryGetProperty(name, out var v)) return null;
        string? content = v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Object when v.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String => c.GetString(),
            JsonValueKind.Null => null,
            _ => throw new InvalidDataException($"{where}: '{name}' is neither a string nor a token object"),
        };
        if (content is null) return null;
        int? id = IdOf(content, tokens);
        if (id is null && required) throw new InvalidDataException($"{where}: '{name}' = \"{content}\" is not in the vocabulary");
        return id;
    }

    private static string? ChatTemplateOf(JsonElement config)
    {
        if (!config.TryGetProperty("chat_template", out var ct)) return null;
        if (ct.ValueKind == JsonValueKind.String) return ct.GetString();
        if (ct.ValueKind == JsonValueKind.Array)
        {
            // [{ "name": "default", "template": "..." }, { "name": "tool_use", ... }]
            string? first = null;
            foreach (var item in ct.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("template", out var tpl) || tpl.ValueKind != JsonValueKind.String) continue;
                first ??= tpl.GetString();
                if (item.TryGetProperty("name", out var n) && n.GetString() == "default") return tpl.GetString();
            }
            return first;
        }
        return null;
    }

    /// <summary>The id of a special token a TemplateProcessing post-processor puts before a single sequence, if any.</summary>
    private static int? PostProcessorPrefix(JsonElement root, string[] tokens)
    {
        if (!root.TryGetProperty("post_processor", out var pp) || pp.ValueKind != JsonValueKind.Object) return null;
        var candidates = new List<JsonElement> { pp };
        if (pp.TryGetProperty("processors", out var list) && list.ValueKind == JsonValueKind.Array) candidates.AddRange(list.EnumerateArray());
        foreach (var p in candidates)
        {
            if (!(p.TryGetProperty("type", out var t) && t.GetString() == "TemplateProcessing")) continue;
            if (!p.TryGetProperty("single", out var single) || single.ValueKind != JsonValueKind.Array || single.GetArrayLength() == 0) continue;
            var first = single[0];
            if (first.ValueKind == JsonValueKind.Object && first.TryGetProperty("SpecialToken", out var st)
                && st.TryGetProperty("id", out var name) && name.ValueKind == JsonValueKind.String)
                return IdOf(name.GetString()!, tokens);
        }
        return null;
    }
}
