using System.Text;
using Microsoft.ML.Tokenizers;

namespace TiDAR.Engine.Tokenizer;

/// <summary>
/// Text to token ids and back for a model, built from <see cref="TokenizerData"/> and behaving like llama.cpp.
/// <list type="bullet">
/// <item>"gpt2" (byte-level BPE: GPT-2, Llama-3, Qwen2/3): Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/>
/// (byte level) does the merges, with the pre-tokenizer regex of <c>tokenizer.ggml.pre</c> applied per code point
/// (see <see cref="PreTokenizers"/>).</item>
/// <item>"llama" (SentencePiece BPE with scores: Llama-2, Mistral, Gemma): Microsoft.ML.Tokenizers'
/// <see cref="SentencePieceTokenizer"/>, loaded from a SentencePiece model written in memory from the tokens, scores
/// and types (no .model file needed). A space is prefixed to each run of text when add_space_prefix is on (default),
/// like llama.cpp; Decode removes one leading space at the start of its output.</item>
/// <item>Other kinds ("bert", "t5", "rwkv", ...) throw <see cref="NotSupportedException"/>.</item>
/// </list>
/// Special and added tokens (control, user-defined, unknown) written in the text are recognized as single ids
/// before the model runs. Decoding works on bytes, so a token that ends mid-character is handled; use
/// <see cref="TokenStreamDecoder"/> for incremental output. No Unicode normalization is applied (as llama.cpp;
/// Hugging Face applies NFC for Qwen, which only matters for text that is not already NFC).
/// Instances are immutable after construction and Encode / Decode may be called from several threads at once (the
/// library's word cache is synchronized); a <see cref="TokenStreamDecoder"/> is for one thread.
/// </summary>
public sealed class TextTokenizer
{
    private static readonly string[] EndOfGenerationNames =
        ["<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|eom_id|>", "<|end_of_text|>", "<end_of_turn>", "<|end|>"];

    private readonly Microsoft.ML.Tokenizers.Tokenizer _model;
    private readonly CodePointRegexPreTokenizer? _preTokenizer;
    private readonly bool _ignoreMerges;
    private readonly Dictionary<string, int> _tokenIds;
    private readonly TokenType[] _types;
    private readonly byte[][] _pieces;
    private readonly SpecialTokenMatcher _specials;
    private readonly bool _sentencePiece;
    private readonly HashSet<int> _endOfGeneration;

    /// <summary>Builds the tokenizer (about half a second for a 150k-token vocabulary).</summary>
    /// <exception cref="InvalidDataException">The data is inconsistent (see <see cref="TokenizerData.Validate"/>).</exception>
    /// <exception cref="NotSupportedException">The model kind is neither "gpt2" nor "llama".</exception>
    public TextTokenizer(TokenizerData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        data.Validate();
        Data = data;
        int n = data.Tokens.Count;
        _types = data.TokenTypes.ToArray();
        _tokenIds = new Dictionary<string, int>(n, StringComparer.Ordinal);
        for (int i = 0; i < n; i++) _tokenIds.TryAdd(data.Tokens[i], i);

        switch (data.Model)
        {
            case TokenizerData.ModelGpt2:
            {
                var pre = PreTokenizers.Resolve(data.Pre);
                PreTokenizerNote = pre.Note;
                _ignoreMerges = pre.IgnoreMerges;
                _preTokenizer = new CodePointRegexPreTokenizer(PreTokenizers.RegexFor(pre.Pattern));
                var options = new BpeOptions(_tokenIds)
                {
                    Merges = data.Merges,
                    ByteLevel = true,
                    PreTokenizer = _preTokenizer,
                };
                _model = BpeTokenizer.Create(options);
                break;
            }
            case TokenizerData.ModelLlama:
            {
                _sentencePiece = true;
                int unk = data.UnknownId ?? Array.IndexOf(_types, TokenType.Unknown);
                if (unk < 0) unk = 0;
                var proto = SentencePieceModelProto.Build(data, unk);
                _model = SentencePieceTokenizer.Create(new MemoryStream(proto), addBeginningOfSentence: false, addEndOfSentence: false);
                break;
            }
            default:
                throw new NotSupportedException(
                    $"tokenizer model '{data.Model}' ({TokenizerData.KeyModel}) is not supported; supported: \"gpt2\" (byte-level BPE) and \"llama\" (SentencePiece BPE)");
        }

        _pieces = new byte[n][];
        for (int i = 0; i < n; i++) _pieces[i] = PieceBytes(data.Tokens[i], _types[i]);

        var matchable = new List<(string, int)>();
        for (int i = 0; i < n; i++)
            if (_types[i] is TokenType.Control or TokenType.UserDefined or TokenType.Unknown)
                matchable.Add((data.Tokens[i], i));
        _specials = new SpecialTokenMatcher(matchable);

        _endOfGeneration = [];
        if (data.EosId is int eos) _endOfGeneration.Add(eos);
        foreach (var name in EndOfGenerationNames)
            if (_tokenIds.TryGetValue(name, out int id) && _types[id] is TokenType.Control or TokenType.UserDefined)
                _endOfGeneration.Add(id);
    }

    /// <summary>Builds the tokenizer from GGUF metadata (see <see cref="TokenizerData.FromGgufMetadata"/>).</summary>
    public static TextTokenizer FromGgufMetadata(IReadOnlyDictionary<string, object> metadata) =>
        new(TokenizerData.FromGgufMetadata(metadata));

    /// <summary>The data this tokenizer was built from.</summary>
    public TokenizerData Data { get; }

    /// <summary>Number of tokens (ids are 0 .. VocabSize-1).</summary>
    public int VocabSize => _types.Length;

    /// <summary>BOS id, if the model has one.</summary>
    public int? BosId => Data.BosId;

    /// <summary>EOS id, if the model has one.</summary>
    public int? EosId => Data.EosId;

    /// <summary>Whether <see cref="Encode(string, bool)"/> with addSpecialTokens prepends BOS.</summary>
    public bool AddBos => Data.AddBos && Data.BosId is not null;

    /// <summary>Ids that end generation: EOS plus <c>&lt;|im_end|&gt;</c>, <c>&lt;|endoftext|&gt;</c>, <c>&lt;|eot_id|&gt;</c>,
    /// <c>&lt;|eom_id|&gt;</c>, <c>&lt;|end_of_text|&gt;</c>, <c>&lt;end_of_turn&gt;</c>, <c>&lt;|end|&gt;</c> when the vocabulary has them as special tokens.</summary>
    public IReadOnlySet<int> EndOfGenerationIds => _endOfGeneration;

    /// <summary>Set when the pre-tokenizer named in the data is not implemented and GPT-2's regex is used instead.</summary>
    public string? PreTokenizerNote { get; }

    /// <summary>Whether the id is a control token (BOS, EOS, <c>&lt;|im_start|&gt;</c>, ...).</summary>
    public bool IsSpecial(int id) => (uint)id < (uint)_types.Length && _types[id] == TokenType.Control;

    /// <summary>The type of a token.</summary>
    public TokenType GetTokenType(int id) => _types[CheckId(id)];

    /// <summary>The vocabulary entry of a token as stored (byte-level BPE entries in GPT-2's alphabet, e.g. "Ġthe").</summary>
    public string GetTokenText(int id) => Data.Tokens[CheckId(id)];

    /// <summary>The id of a vocabulary entry written as stored, or null.</summary>
    public int? TokenToId(string token) => _tokenIds.TryGetValue(token, out int id) ? id : null;

    /// <summary>
    /// Encodes text. Special and added tokens written in the text (e.g. <c>&lt;|im_start|&gt;</c>) become single ids.
    /// With <paramref name="addSpecialTokens"/>, BOS is prepended when the model asks for it (add_bos_token), and EOS
    /// appended when add_eos_token is set.
    /// </summary>
    public int[] Encode(string text, bool addSpecialTokens = false) => Encode(text, addSpecialTokens, parseSpecial: true);

    /// <summary>As <see cref="Encode(string, bool)"/>; with <paramref name="parseSpecial"/> false, special tokens written in the
    /// text are encoded as ordinary text (use for untrusted text that must not inject control tokens).</summary>
    public int[] Encode(string text, bool addSpecialTokens, bool parseSpecial)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 4);
        if (addSpecialTokens && AddBos) ids.Add(Data.BosId!.Value);
        if (parseSpecial && !_specials.IsEmpty)
        {
            foreach (var (start, length, id) in _specials.Split(text))
            {
                if (id >= 0) ids.Add(id);
                else EncodeText(start == 0 && length == text.Length ? text : text.Substring(start, length), ids);
            }
        }
        else
        {
            EncodeText(text, ids);
        }
        if (addSpecialTokens && Data.AddEos == true && Data.EosId is int eos) ids.Add(eos);
        return ids.ToArray();
    }

    private void EncodeText(string text, List<int> ids)
    {
        if (text.Length == 0) return;
        if (_sentencePiece)
        {
            ids.AddRange(((SentencePieceTokenizer)_model).EncodeToIds(text, addBeginningOfSentence: false, addEndOfSentence: false,
                considerPreTokenization: true, considerNormalization: true));
            return;
        }
        if (!_ignoreMerges)
        {
            ids.AddRange(_model.EncodeToIds(text, considerPreTokenization: true, considerNormalization: false));
            return;
        }
        // ignore_merges (Llama-3): a pre-token that is itself in the vocabulary is one token, whatever the merges say.
        foreach (var (offset, length) in _preTokenizer!.Split(text))
        {
            string word = text.Substring(offset, length);
            if (_tokenIds.TryGetValue(ByteLevel.Encode(word), out int id) && _types[id] is TokenType.Normal or TokenType.Undefined)
                ids.Add(id);
            else
                ids.AddRange(_model.EncodeToIds(word, considerPreTokenization: false, considerNormalization: false));
        }
    }

    /// <summary>
    /// Decodes ids to text. Control tokens are written as their text unless <paramref name="skipSpecial"/>; unused
    /// tokens produce nothing. Byte sequences that are not valid UTF-8 become U+FFFD.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the vocabulary.</exception>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecial = false)
    {
        var bytes = new List<byte>(ids.Length * 4);
        bool atStart = true;
        foreach (int id in ids) AppendPiece(id, skipSpecial, ref atStart, bytes);
        return Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes));
    }

    /// <summary>A decoder that takes ids one at a time and returns the text each one completes.</summary>
    public TokenStreamDecoder CreateStreamDecoder(bool skipSpecial = false) => new(this, skipSpecial);

    /// <summary>Appends the bytes of a token; <paramref name="atStart"/> tracks SentencePiece's leading-space removal.</summary>
    internal void AppendPiece(int id, bool skipSpecial, ref bool atStart, List<byte> output)
    {
        var type = _types[CheckId(id)];
        var piece = _pieces[id];
        if (type is TokenType.Control or TokenType.Unknown)
        {
            if (!skipSpecial) output.AddRange(piece);
            return;
        }
        if (piece.Length == 0) return;
        int skip = 0;
        if (atStart)
        {
            atStart = false;
            if (_sentencePiece && (Data.AddSpacePrefix ?? true) && piece[0] == (byte)' ') skip = 1;
        }
        for (int i = skip; i < piece.Length; i++) output.Add(piece[i]);
    }

    private byte[] PieceBytes(string token, TokenType type)
    {
        switch (type)
        {
            case TokenType.Unused:
                return [];
            case TokenType.Control or TokenType.UserDefined or TokenType.Unknown:
                return Encoding.UTF8.GetBytes(token);
        }
        if (_sentencePiece)
        {
            if (type == TokenType.Byte && token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal)
                && byte.TryParse(token.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out byte b))
                return [b];
            return Encoding.UTF8.GetBytes(token.Replace('\u2581', ' '));
        }
        return ByteLevel.TryDecode(token) ?? Encoding.UTF8.GetBytes(token);
    }

    private int CheckId(int id)
    {
        if ((uint)id >= (uint)_types.Length)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"token id {id} is outside the vocabulary (0..{_types.Length - 1})");
        return id;
    }
}
