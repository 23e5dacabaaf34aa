using TiDAR.Trainer.Tokenizer;

namespace TiDAR.Trainer.Training;

/// <summary>Corpus files (documents separated by a line holding only &lt;|endoftext|&gt;) and their token streams.</summary>
public static class TokenCorpus
{
    public static IEnumerable<string> ReadDocuments(string path)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var line in File.ReadLines(path))
        {
            if (line == ByteLevelBpe.EndOfText)
            {
                if (sb.Length > 0) yield return sb.ToString();
                sb.Clear();
                continue;
            }
            sb.Append(line).Append('\n');
        }
        if (sb.Length > 0) yield return sb.ToString();
    }

    /// <summary>Encodes every document followed by the end-of-text token.</summary>
    public static ushort[] Encode(ByteLevelBpe bpe, string corpusPath)
    {
        var ids = new List<int>();
        foreach (var doc in ReadDocuments(corpusPath))
        {
            bpe.EncodeInto(doc, ids);
            ids.Add(bpe.EndOfTextId);
        }
        return ids.Select(i => checked((ushort)i)).ToArray();
    }

    /// <summary>Loads the cached token stream next to the tokenizer, encoding and caching it first if needed.</summary>
    public static ushort[] LoadOrEncode(ByteLevelBpe bpe, string corpusPath, string cachePath, Action<string>? log = null)
    {
        if (File.Exists(cachePath) && File.GetLastWriteTimeUtc(cachePath) >= File.GetLastWriteTimeUtc(corpusPath))
        {
            var bytes = File.ReadAllBytes(cachePath);
            var ids = new ushort[bytes.Length / 2];
            Buffer.BlockCopy(bytes, 0, ids, 0, ids.Length * 2);
            return ids;
        }
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var encoded = Encode(bpe, corpusPath);
        var outBytes = new byte[encoded.Length * 2];
        Buffer.BlockCopy(encoded, 0, outBytes, 0, outBytes.Length);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(cachePath))!);
        File.WriteAllBytes(cachePath, outBytes);
        log?.Invoke($"encoded {corpusPath}: {encoded.Length:N0} tokens in {sw.Elapsed.TotalSeconds:F1} s");
        return encoded;
    }
}
