using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace TiDAR.Trainer.Tokenizer;

/// <summary>
/// A GPT-2-style byte-level BPE: text is split by the GPT-2 pre-tokenizer regex, each piece's UTF-8
/// bytes are mapped to printable characters (GPT-2's bytes_to_unicode), and merges are applied in
/// rank order. Ids 0..255 are the single bytes (id = byte value), then one id per merge, then the
/// special tokens. Saved as a Hugging Face tokenizer.json (BPE model, ByteLevel pre-tokenizer/decoder).
/// </summary>
public sealed partial class ByteLevelBpe
{
    public const string EndOfText = "<|endoftext|>";
    public const string Mask = "<|mask|>";
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    [GeneratedRegex(Gpt2Pattern, RegexOptions.CultureInvariant)]
    internal static partial Regex PreTokenizer();

    /// <summary>GPT-2's bytes_to_unicode: byte value -> printable character.</summary>
    public static readonly char[] ByteToChar = BuildByteToChar();
    private static readonly Dictionary<char, byte> CharToByte = ByteToChar.Select((c, b) => (c, b)).ToDictionary(p => p.c, p => (byte)p.b);

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var direct = new bool[256];
        for (int b = '!'; b <= '~'; b++) direct[b] = true;
        for (int b = 0xA1; b <= 0xAC; b++) direct[b] = true;
        for (int b = 0xAE; b <= 0xFF; b++) direct[b] = true;
        int n = 0;
        for (int b = 0; b < 256; b++) map[b] = direct[b] ? (char)b : (char)(256 + n++);
        return map;
    }

    /// <summary>Merges in rank order: (left id, right id) -> merged id.</summary>
    public IReadOnlyList<(int Left, int Right)> Merges => _merges;
    public IReadOnlyList<string> Tokens => _tokens;
    public int VocabSize => _tokens.Count;
    public int EndOfTextId { get; }
    public int MaskId { get; }

    private readonly List<(int, int)> _merges;
    private readonly List<string> _tokens;             // id -> byte-level string
    private readonly Dictionary<(int, int), int> _rank; // pair -> merge rank
    // Concurrent because one tokenizer is shared by data-loading threads (and by parallel test classes).
    private readonly ConcurrentDictionary<string, int[]> _cache = new();

    private ByteLevelBpe(List<(int, int)> merges)
    {
        _merges = merges;
        _tokens = Enumerable.Range(0, 256).Select(b => ByteToChar[b].ToString()).ToList();
        _rank = new Dictionary<(int, int), int>();
        for (int r = 0; r < merges.Count; r++)
        {
            _rank[merges[r]] = r;
            _tokens.Add(_tokens[merges[r].Item1] + _tokens[merges[r].Item2]);
        }
        EndOfTextId = _tokens.Count; _tokens.Add(EndOfText);
        MaskId = _tokens.Count; _tokens.Add(Mask);
    }

    /// <summary>Learns merges until the vocabulary (256 bytes + merges + 2 special tokens) reaches <paramref name="vocabSize"/>.</summary>
    public static ByteLevelBpe Train(IEnumerable<string> documents, int vocabSize, Action<string>? log = null)
    {
        if (vocabSize < 258) throw new ArgumentOutOfRangeException(nameof(vocabSize), "needs at least 256 bytes + 2 special tokens");
        var wordCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        var regex = PreTokenizer();
        foreach (var doc in documents)
            foreach (var m in regex.EnumerateMatches(doc))
            {
                var piece = doc.AsSpan(m.Index, m.Length);
                var lookup = wordCounts.GetAlternateLookup<ReadOnlySpan<char>>();
                if (lookup.TryGetValue(piece, out int c)) lookup[piece] = c + 1;
                else wordCounts[piece.ToString()] = 1;
            }
        log?.Invoke($"{wordCounts.Count} distinct pre-tokens");

        // Words as symbol sequences (initially bytes) with their counts.
        var words = new List<int[]>(wordCounts.Count);
        var counts = new List<long>(wordCounts.Count);
        foreach (var (w, c) in wordCounts.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var bytes = Encoding.UTF8.GetBytes(w);
            words.Add(bytes.Select(b => (int)b).ToArray());
            counts.Add(c);
        }
        var pairCounts = new Dictionary<(int, int), long>();
        var where = new Dictionary<(int, int), HashSet<int>>();
        for (int wi = 0; wi < words.Count; wi++)
        {
            var w = words[wi];
            for (int i = 0; i + 1 < w.Length; i++)
            {
                var p = (w[i], w[i + 1]);
                pairCounts[p] = pairCounts.GetValueOrDefault(p) + counts[wi];
                if (!where.TryGetValue(p, out var set)) where[p] = set = new HashSet<int>();
                set.Add(wi);
            }
        }

        var merges = new List<(int, int)>();
        int target = vocabSize - 256 - 2;
        var buffer = new List<int>();
        while (merges.Count < target)
        {
            (int, int) best = default; long bestCount = 0;
            foreach (var (p, c) in pairCounts)
                if (c > bestCount || (c == bestCount && c > 0 && (p.Item1 < best.Item1 || (p.Item1 == best.Item1 && p.Item2 < best.Item2))))
                { best = p; bestCount = c; }
            if (bestCount < 2) break;
            int newId = 256 + merges.Count;
            merges.Add(best);
            foreach (int wi in where[best].ToArray())
            {
                var w = words[wi];
                long c = counts[wi];
                // Remove this word's old pairs, merge, add the new pairs.
                for (int i = 0; i + 1 < w.Length; i++)
                {
                    var p = (w[i], w[i + 1]);
                    pairCounts[p] -= c;
                    where[p].Remove(wi);
                }
                buffer.Clear();
                for (int i = 0; i < w.Length; i++)
                {
                    if (i + 1 < w.Length && w[i] == best.Item1 && w[i + 1] == best.Item2) { buffer.Add(newId); i++; }
                    else buffer.Add(w[i]);
                }
                w = buffer.ToArray();
                words[wi] = w;
                for (int i = 0; i + 1 < w.Length; i++)
                {
                    var p = (w[i], w[i + 1]);
                    pairCounts[p] = pairCounts.GetValueOrDefault(p) + c;
                    if (!where.TryGetValue(p, out var set)) where[p] = set = new HashSet<int>();
                    set.Add(wi);
                }
            }
            pairCounts.Remove(best);
            where.Remove(best);
            if (merges.Count % 500 == 0) log?.Invoke($"{merges.Count}/{target} merges (last count {bestCount})");
        }
        return new ByteLevelBpe(merges);
    }

    /// <summary>Encodes plain text (no special-token parsing).</summary>
    public int[] Encode(string text)
    {
        var ids = new List<int>(text.Length / 3);
        EncodeInto(text, ids);
        return ids.ToArray();
    }

    public void EncodeInto(string text, List<int> ids)
    {
        foreach (var m in PreTokenizer().EnumerateMatches(text))
        {
            var piece = text.AsSpan(m.Index, m.Length);
            var lookup = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
            if (!lookup.TryGetValue(piece, out var word))
            {
                string s = piece.ToString();
                word = EncodeWord(Encoding.UTF8.GetBytes(s));
                if (_cache.Count < 500_000) _cache.TryAdd(s, word);
            }
            ids.AddRange(word);
        }
    }

    private int[] EncodeWord(byte[] bytes)
    {
        var sym = bytes.Select(b => (int)b).ToList();
        while (sym.Count > 1)
        {
            int bestRank = int.MaxValue, at = -1;
            for (int i = 0; i + 1 < sym.Count; i++)
                if (_rank.TryGetValue((sym[i], sym[i + 1]), out int r) && r < bestRank) { bestRank = r; at = i; }
            if (at < 0) break;
            var pair = _merges[bestRank];
            int merged = 256 + bestRank;
            for (int i = 0; i + 1 < sym.Count; i++)
                if (sym[i] == pair.Item1 && sym[i + 1] == pair.Item2) { sym[i] = merged; sym.RemoveAt(i + 1); }
        }
        return sym.ToArray();
    }

    public string Decode(IEnumerable<int> ids)
    {
        var bytes = new List<byte>();
        foreach (int id in ids)
        {
            if (id == EndOfTextId || id == MaskId) { bytes.AddRange(Encoding.UTF8.GetBytes(_tokens[id])); continue; }
            foreach (char ch in _tokens[id]) bytes.Add(CharToByte[ch]);
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>Writes tokenizer.json and tokenizer_config.json (Hugging Face layout) into <paramref name="dir"/>.</summary>
    public void Save(string dir, int modelMaxLength = 2048)
    {
        Directory.CreateDirectory(dir);
        var opts = new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        using (var fs = File.Create(Path.Combine(dir, "tokenizer.json")))
        using (var w = new Utf8JsonWriter(fs, opts))
        {
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WriteNull("truncation");
            w.WriteNull("padding");
            w.WriteStartArray("added_tokens");
            foreach (int id in new[] { EndOfTextId, MaskId })
            {
                w.WriteStartObject();
                w.WriteNumber("id", id);
                w.WriteString("content", _tokens[id]);
                w.WriteBoolean("single_word", false);
                w.WriteBoolean("lstrip", false);
                w.WriteBoolean("rstrip", false);
                w.WriteBoolean("normalized", false);
                w.WriteBoolean("special", true);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteNull("normalizer");
            WriteByteLevel(w, "pre_tokenizer", addPrefixSpace: false, trimOffsets: true);
            WriteByteLevel(w, "post_processor", addPrefixSpace: false, trimOffsets: false);
            WriteByteLevel(w, "decoder", addPrefixSpace: true, trimOffsets: true);
            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            w.WriteNull("dropout");
            w.WriteNull("unk_token");
            w.WriteNull("continuing_subword_prefix");
            w.WriteNull("end_of_word_suffix");
            w.WriteBoolean("fuse_unk", false);
            w.WriteBoolean("byte_fallback", false);
            w.WriteBoolean("ignore_merges", false);
            w.WriteStartObject("vocab");
            for (int id = 0; id < _tokens.Count; id++) w.WriteNumber(_tokens[id], id);
            w.WriteEndObject();
            w.WriteStartArray("merges");
            foreach (var (l, r) in _merges) w.WriteStringValue(_tokens[l] + " " + _tokens[r]);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        using (var fs = File.Create(Path.Combine(dir, "tokenizer_config.json")))
        using (var w = new Utf8JsonWriter(fs, opts))
        {
            w.WriteStartObject();
            w.WriteBoolean("add_bos_token", false);
            w.WriteBoolean("add_prefix_space", false);
            w.WriteStartObject("added_tokens_decoder");
            foreach (int id in new[] { EndOfTextId, MaskId })
            {
                w.WriteStartObject(id.ToString());
                w.WriteString("content", _tokens[id]);
                w.WriteBoolean("lstrip", false);
                w.WriteBoolean("normalized", false);
                w.WriteBoolean("rstrip", false);
                w.WriteBoolean("single_word", false);
                w.WriteBoolean("special", true);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteNull("bos_token");
            w.WriteString("eos_token", EndOfText);
            w.WriteString("pad_token", EndOfText);
            w.WriteString("mask_token", Mask);
            w.WriteNull("unk_token");
            w.WriteBoolean("clean_up_tokenization_spaces", false);
            w.WriteNumber("model_max_length", modelMaxLength);
            w.WriteString("tokenizer_class", "PreTrainedTokenizerFast");
            w.WriteEndObject();
        }
    }

    private static void WriteByteLevel(Utf8JsonWriter w, string name, bool addPrefixSpace, bool trimOffsets)
    {
        w.WriteStartObject(name);
        w.WriteString("type", "ByteLevel");
        w.WriteBoolean("add_prefix_space", addPrefixSpace);
        w.WriteBoolean("trim_offsets", trimOffsets);
        w.WriteBoolean("use_regex", true);
        w.WriteEndObject();
    }

    /// <summary>Loads a tokenizer.json written by <see cref="Save"/>.</summary>
    public static ByteLevelBpe Load(string tokenizerJsonPath)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(tokenizerJsonPath));
        var model = doc.RootElement.GetProperty("model");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var p in model.GetProperty("vocab").EnumerateObject()) vocab[p.Name] = p.Value.GetInt32();
        var merges = new List<(int, int)>();
        foreach (var m in model.GetProperty("merges").EnumerateArray())
        {
            string s = m.GetString()!;
            int sp = s.IndexOf(' ');
            merges.Add((vocab[s[..sp]], vocab[s[(sp + 1)..]]));
        }
        var bpe = new ByteLevelBpe(merges);
        for (int id = 0; id < bpe._tokens.Count; id++)
            if (!vocab.TryGetValue(bpe._tokens[id], out int v) || v != id)
                throw new InvalidDataException($"{tokenizerJsonPath}: not a tokenizer written by this trainer (token {id} differs).");
        return bpe;
    }
}
