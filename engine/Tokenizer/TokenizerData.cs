namespace TiDAR.Engine.Tokenizer;

/// <summary>
/// Everything needed to tokenize for a model, in llama.cpp's GGUF terms (<c>tokenizer.ggml.*</c>): the model kind,
/// the vocabulary with token types, BPE merges or SentencePiece scores, special token ids and flags, and the chat
/// template. Build it with <see cref="FromGgufMetadata"/> or <see cref="FromHuggingFace"/>, write it back with
/// <see cref="ToGgufMetadata"/>, and tokenize with <see cref="TextTokenizer"/>.
/// </summary>
/// <remarks>
/// The lists are compared by reference by the record's equality; compare contents with SequenceEqual.
/// Hand-built instances are checked by <see cref="Validate"/> (which <see cref="TextTokenizer"/> and
/// <see cref="ToGgufMetadata"/> call).
/// </remarks>
public sealed partial record TokenizerData
{
    /// <summary><c>tokenizer.ggml.model</c> for byte-level BPE (GPT-2, Llama-3, Qwen2/3).</summary>
    public const string ModelGpt2 = "gpt2";
    /// <summary><c>tokenizer.ggml.model</c> for SentencePiece BPE with scores (Llama-1/2, Mistral, Gemma).</summary>
    public const string ModelLlama = "llama";

    public const string KeyModel = "tokenizer.ggml.model";
    public const string KeyPre = "tokenizer.ggml.pre";
    public const string KeyTokens = "tokenizer.ggml.tokens";
    public const string KeyTokenType = "tokenizer.ggml.token_type";
    public const string KeyMerges = "tokenizer.ggml.merges";
    public const string KeyScores = "tokenizer.ggml.scores";
    public const string KeyBosId = "tokenizer.ggml.bos_token_id";
    public const string KeyEosId = "tokenizer.ggml.eos_token_id";
    public const string KeyPadId = "tokenizer.ggml.padding_token_id";
    public const string KeyUnknownId = "tokenizer.ggml.unknown_token_id";
    public const string KeyAddBos = "tokenizer.ggml.add_bos_token";
    public const string KeyAddEos = "tokenizer.ggml.add_eos_token";
    public const string KeyAddSpacePrefix = "tokenizer.ggml.add_space_prefix";
    public const string KeyChatTemplate = "tokenizer.chat_template";

    /// <summary><c>tokenizer.ggml.model</c>: <see cref="ModelGpt2"/> or <see cref="ModelLlama"/> (others can be carried but not tokenized).</summary>
    public required string Model { get; init; }

    /// <summary><c>tokenizer.ggml.pre</c>: the pre-tokenizer name ("qwen2", "llama-bpe", "gpt2", "default", ...).</summary>
    public string Pre { get; init; } = "default";

    /// <summary><c>tokenizer.ggml.tokens</c>: the vocabulary, index = id. Byte-level BPE entries are in GPT-2's byte alphabet ("Ġthe").</summary>
    public required IReadOnlyList<string> Tokens { get; init; }

    /// <summary><c>tokenizer.ggml.token_type</c>, one per token.</summary>
    public required IReadOnlyList<TokenType> TokenTypes { get; init; }

    /// <summary><c>tokenizer.ggml.merges</c>: BPE merges "a b", highest priority first (byte-level BPE only).</summary>
    public IReadOnlyList<string> Merges { get; init; } = [];

    /// <summary><c>tokenizer.ggml.scores</c>: one per token (SentencePiece); null when absent.</summary>
    public IReadOnlyList<float>? Scores { get; init; }

    /// <summary><c>tokenizer.ggml.bos_token_id</c>.</summary>
    public int? BosId { get; init; }
    /// <summary><c>tokenizer.ggml.eos_token_id</c>.</summary>
    public int? EosId { get; init; }
    /// <summary><c>tokenizer.ggml.padding_token_id</c>.</summary>
    public int? PadId { get; init; }
    /// <summary><c>tokenizer.ggml.unknown_token_id</c>.</summary>
    public int? UnknownId { get; init; }

    /// <summary><c>tokenizer.ggml.add_bos_token</c>: prepend BOS when encoding with special tokens.</summary>
    public bool AddBos { get; init; }
    /// <summary><c>tokenizer.ggml.add_eos_token</c> (null: not stored; treated as false).</summary>
    public bool? AddEos { get; init; }
    /// <summary><c>tokenizer.ggml.add_space_prefix</c> (SentencePiece; null: not stored, treated as true like llama.cpp).</summary>
    public bool? AddSpacePrefix { get; init; }

    /// <summary><c>tokenizer.chat_template</c> (Jinja).</summary>
    public string? ChatTemplate { get; init; }

    /// <summary>Number of tokens.</summary>
    public int VocabSize => Tokens.Count;

    /// <summary>Ids of the control tokens (<see cref="TokenType.Control"/>): BOS/EOS, <c>&lt;|im_start|&gt;</c>, ... (computed on each call).</summary>
    public IReadOnlySet<int> SpecialTokenIds
    {
        get
        {
            var set = new HashSet<int>();
            for (int i = 0; i < TokenTypes.Count; i++)
                if (TokenTypes[i] == TokenType.Control) set.Add(i);
            return set;
        }
    }

    /// <summary>
    /// A copy padded to <paramref name="vocabSize"/> tokens with llama.cpp's placeholders (<c>[PAD{id}]</c>,
    /// <see cref="TokenType.Unused"/>, score 0), for models whose embedding has more rows than the tokenizer has
    /// tokens (Qwen3: 151936 rows, 151669 tokens).
    /// </summary>
    public TokenizerData WithVocabSize(int vocabSize)
    {
        if (vocabSize < Tokens.Count)
            throw new ArgumentException($"vocabSize {vocabSize} is smaller than the {Tokens.Count} tokens already present", nameof(vocabSize));
        if (vocabSize == Tokens.Count) return this;
        var tokens = new List<string>(Tokens);
        var types = new List<TokenType>(TokenTypes);
        var scores = Scores is null ? null : new List<float>(Scores);
        for (int i = Tokens.Count; i < vocabSize; i++)
        {
            tokens.Add($"[PAD{i}]");
            types.Add(TokenType.Unused);
            scores?.Add(0f);
        }
        return this with { Tokens = tokens, TokenTypes = types, Scores = scores };
    }

    // ---------------------------------------------------------------- GGUF

    /// <summary>
    /// Reads llama.cpp's tokenizer keys from GGUF metadata (values as the GGUF reader produces them: string, bool,
    /// integers, float, typed arrays). Ids may be stored as any integer type; -1 means "not set".
    /// Missing optional keys: pre = "default", token types = all normal, add_bos = true for "llama" and false otherwise.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="metadata"/> is null.</exception>
    /// <exception cref="InvalidDataException">A key is missing, has the wrong type, or is inconsistent (the message names the key).</exception>
    public static TokenizerData FromGgufMetadata(IReadOnlyDictionary<string, object> metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        string model = ReadString(metadata, KeyModel) ?? throw Missing(KeyModel, "the tokenizer kind, e.g. \"gpt2\" or \"llama\"");
        string[] tokens = ReadStrings(metadata, KeyTokens) ?? throw Missing(KeyTokens, "the vocabulary");

        TokenType[] types;
        var rawTypes = ReadIntegers(metadata, KeyTokenType);
        if (rawTypes is null)
        {
            types = new TokenType[tokens.Length];
            Array.Fill(types, TokenType.Normal);
        }
        else
        {
            if (rawTypes.Length != tokens.Length)
                throw new InvalidDataException($"GGUF metadata '{KeyTokenType}' has {rawTypes.Length} entries but '{KeyTokens}' has {tokens.Length}");
            types = new TokenType[rawTypes.Length];
            for (int i = 0; i < rawTypes.Length; i++)
            {
                if (rawTypes[i] is < 0 or > 6)
                    throw new InvalidDataException($"GGUF metadata '{KeyTokenType}'[{i}] = {rawTypes[i]} is not a token type (0..6)");
                types[i] = (TokenType)rawTypes[i];
            }
        }

        string[]? merges = ReadStrings(metadata, KeyMerges);
        if (merges is null && model == ModelGpt2) throw Missing(KeyMerges, "the BPE merges, required for \"gpt2\" tokenizers");
        float[]? scores = ReadFloats(metadata, KeyScores);
        if (scores is null && model == ModelLlama) throw Missing(KeyScores, "the piece scores, required for \"llama\" (SentencePiece) tokenizers");

        var data = new TokenizerData
        {
            Model = model,
            Pre = ReadString(metadata, KeyPre) ?? "default",
            Tokens = tokens,
            TokenTypes = types,
            Merges = merges ?? [],
            Scores = scores,
            BosId = ReadId(metadata, KeyBosId),
            EosId = ReadId(metadata, KeyEosId),
            PadId = ReadId(metadata, KeyPadId),
            UnknownId = ReadId(metadata, KeyUnknownId),
            AddBos = ReadBool(metadata, KeyAddBos) ?? model == ModelLlama,
            AddEos = ReadBool(metadata, KeyAddEos),
            AddSpacePrefix = ReadBool(metadata, KeyAddSpacePrefix),
            ChatTemplate = ReadString(metadata, KeyChatTemplate),
        };
        data.Validate();
        return data;
    }

    /// <summary>
    /// The tokenizer as GGUF metadata with llama.cpp's keys and value types: strings, string[] tokens and merges,
    /// int[] token types, float[] scores, uint ids, bool flags. Keys whose value is not set are left out
    /// (merges when there are none, scores when null, ids when null, add_eos / add_space_prefix when null).
    /// </summary>
    /// <exception cref="InvalidDataException">The data is inconsistent (see <see cref="Validate"/>).</exception>
    public IReadOnlyDictionary<string, object> ToGgufMetadata()
    {
        Validate();
        var md = new Dictionary<string, object>
        {
            [KeyModel] = Model,
            [KeyPre] = Pre,
            [KeyTokens] = Tokens.ToArray(),
            [KeyTokenType] = TokenTypes.Select(t => (int)t).ToArray(),
        };
        if (Merges.Count > 0 || Model == ModelGpt2) md[KeyMerges] = Merges.ToArray();
        if (Scores is not null) md[KeyScores] = Scores.ToArray();
        if (BosId is int bos) md[KeyBosId] = (uint)bos;
        if (EosId is int eos) md[KeyEosId] = (uint)eos;
        if (UnknownId is int unk) md[KeyUnknownId] = (uint)unk;
        if (PadId is int pad) md[KeyPadId] = (uint)pad;
        md[KeyAddBos] = AddBos;
        if (AddEos is bool addEos) md[KeyAddEos] = addEos;
        if (AddSpacePrefix is bool asp) md[KeyAddSpacePrefix] = asp;
        if (ChatTemplate is not null) md[KeyChatTemplate] = ChatTemplate;
        return md;
    }

    // ---------------------------------------------------------------- validation

    /// <summary>
    /// Checks consistency: a model kind and at least one token, one type per token, scores (when present) one per
    /// token and required for "llama", merges well formed ("a b") with both halves and their concatenation in the
    /// vocabulary, ids in range.
    /// </summary>
    /// <exception cref="InvalidDataException">With a message that names the llama.cpp key at fault.</exception>
    public void Validate()
    {
        if (string.IsNullOrEmpty(Model)) throw new InvalidDataException($"'{KeyModel}' is empty");
        if (Tokens is null || Tokens.Count == 0) throw new InvalidDataException($"'{KeyTokens}' is empty: the vocabulary has no tokens");
        for (int i = 0; i < Tokens.Count; i++)
            if (Tokens[i] is null) throw new InvalidDataException($"'{KeyTokens}'[{i}] is null");
        if (TokenTypes is null || TokenTypes.Count != Tokens.Count)
            throw new InvalidDataException($"'{KeyTokenType}' has {TokenTypes?.Count ?? 0} entries but '{KeyTokens}' has {Tokens.Count}");
        for (int i = 0; i < TokenTypes.Count; i++)
            if (!Enum.IsDefined(TokenTypes[i]))
                throw new InvalidDataException($"'{KeyTokenType}'[{i}] = {(int)TokenTypes[i]} is not a token type (0..6)");
        if (Scores is not null && Scores.Count != Tokens.Count)
            throw new InvalidDataException($"'{KeyScores}' has {Scores.Count} entries but '{KeyTokens}' has {Tokens.Count}");
        if (Model == ModelLlama && Scores is null)
            throw new InvalidDataException($"'{KeyScores}' is missing: \"llama\" (SentencePiece) tokenizers need one score per token");
        if (Model == ModelGpt2 && Merges.Count == 0)
            throw new InvalidDataException($"'{KeyMerges}' is empty: \"gpt2\" (byte-level BPE) tokenizers need merges");

        CheckId(BosId, KeyBosId);
        CheckId(EosId, KeyEosId);
        CheckId(PadId, KeyPadId);
        CheckId(UnknownId, KeyUnknownId);

        if (Merges.Count > 0)
        {
            var vocab = new HashSet<string>(Tokens, StringComparer.Ordinal);
            for (int i = 0; i < Merges.Count; i++)
            {
                string merge = Merges[i] ?? throw new InvalidDataException($"'{KeyMerges}'[{i}] is null");
                if (!TrySplitMerge(merge, out var left, out var right))
                    throw new InvalidDataException($"'{KeyMerges}'[{i}] = \"{merge}\" is not of the form \"a b\"");
                if (!vocab.Contains(left))
                    throw new InvalidDataException($"'{KeyMerges}'[{i}] = \"{merge}\": \"{left}\" is not in '{KeyTokens}'");
                if (!vocab.Contains(right))
                    throw new InvalidDataException($"'{KeyMerges}'[{i}] = \"{merge}\": \"{right}\" is not in '{KeyTokens}'");
                if (!vocab.Contains(left + right))
                    throw new InvalidDataException($"'{KeyMerges}'[{i}] = \"{merge}\": the merged token \"{left + right}\" is not in '{KeyTokens}'");
            }
        }
    }

    /// <summary>Splits "a b" at the first space after the first character, like llama.cpp.</summary>
    internal static bool TrySplitMerge(string merge, out string left, out string right)
    {
        int space = merge.Length > 1 ? merge.IndexOf(' ', 1) : -1;
        if (space < 0 || space == merge.Length - 1 || merge.IndexOf(' ', space + 1) >= 0)
        {
            left = right = "";
            return false;
        }
        left = merge[..space];
        right = merge[(space + 1)..];
        return true;
    }

    private void CheckId(int? id, string key)
    {
        if (id is int v && (v < 0 || v >= Tokens.Count))
            throw new InvalidDataException($"'{key}' = {v} is out of range: the vocabulary has {Tokens.Count} tokens");
    }

    // ---------------------------------------------------------------- metadata readers

    private static InvalidDataException Missing(string key, string what) =>
        new($"GGUF metadata key '{key}' is missing ({what})");

    private static InvalidDataException WrongType(string key, object value, string wanted) =>
        new($"GGUF metadata key '{key}' holds {Describe(value)}, expected {wanted}");

    private static string Describe(object value) => value switch
    {
        Array a => $"an array of {a.Length} {a.GetType().GetElementType()!.Name}",
        string => "a string",
        _ => $"a {value.GetType().Name} ({value})",
    };

    private static string? ReadString(IReadOnlyDictionary<string, object> md, string key)
    {
        if (!md.TryGetValue(key, out var v) || v is null) return null;
        return v as string ?? throw WrongType(key, v, "a string");
    }

    private static bool? ReadBool(IReadOnlyDictionary<string, object> md, string key)
    {
        if (!md.TryGetValue(key, out var v) || v is null) return null;
        return v is bool b ? b : throw WrongType(key, v, "a bool");
    }

    private static string[]? ReadStrings(IReadOnlyDictionary<string, object> md, string key)
    {
        if (!md.TryGetValue(key, out var v) || v is null) return null;
        string[] strings = v switch
        {
            string[] s => s,
            IReadOnlyList<string> list => list.ToArray(),
            object[] objects when objects.All(o => o is string) => objects.Cast<string>().ToArray(),
            _ => throw WrongType(key, v, "an array of strings"),
        };
        for (int i = 0; i < strings.Length; i++)
            if (strings[i] is null) throw new InvalidDataException($"GGUF metadata key '{key}'[{i}] is null");
        return strings;
    }

    private static long[]? ReadIntegers(IReadOnlyDictionary<string, object> md, string key)
    {
        if (!md.TryGetValue(key, out var v) || v is null) return null;
        return v switch
        {
            int[] a => Array.ConvertAll(a, x => (long)x),
            uint[] a => Array.ConvertAll(a, x => (long)x),
            long[] a => a,
            ulong[] a => Array.ConvertAll(a, x => x > long.MaxValue ? -1 : (long)x),
            short[] a => Array.ConvertAll(a, x => (long)x),
            ushort[] a => Array.ConvertAll(a, x => (long)x),
            sbyte[] a => Array.ConvertAll(a, x => (long)x),
            byte[] a => Array.ConvertAll(a, x => (long)x),
            _ => throw WrongType(key, v, "an array of integers"),
        };
    }

    private static float[]? ReadFloats(IReadOnlyDictionary<string, object> md, string key)
    {
        if (!md.TryGetValue(key, out var v) || v is null) return null;
        return v switch
        {
            float[] a => a,
            double[] a => Array.ConvertAll(a, x => (float)x),
            _ => throw WrongType(key, v, "an array of float32"),
        };
    }

    private static int? ReadId(IReadOnlyDictionary<string, object> md, string key)
    {
        if (!md.TryGetValue(key, out var v) || v is null) return null;
        long id = v switch
        {
            uint x => x == uint.MaxValue ? -1 : x,
            int x => x,
            ulong x => x > int.MaxValue ? long.MaxValue : (long)x,
            long x => x,
            ushort x => x,
            short x => x,
            byte x => x,
            sbyte x => x,
            _ => throw WrongType(key, v, "an integer token id"),
        };
        if (id == -1) return null;
        if (id < 0 || id > int.MaxValue) throw new InvalidDataException($"GGUF metadata key '{key}' = {id} is not a valid token id");
        return (int)id;
    }
}
