using System.Diagnostics;
using TiDAR.Trainer.Tokenizer;
using TiDAR.Trainer.Training;

namespace TiDAR.Trainer.Commands;

public static class TokenizerCommand
{
    public static int Run(Args a)
    {
        string corpus = a.Req("corpus");
        string outDir = a.Req("out");
        int vocab = a.Int("vocab", 4096);
        a.RejectUnknown();
        var sw = Stopwatch.StartNew();
        var bpe = ByteLevelBpe.Train(TokenCorpus.ReadDocuments(Path.Combine(corpus, "train.txt")), vocab,
            m => Console.WriteLine($"[{sw.Elapsed:mm\\:ss}] {m}"));
        bpe.Save(outDir);
        Console.WriteLine($"[{sw.Elapsed:mm\\:ss}] wrote {outDir}/tokenizer.json: {bpe.VocabSize} tokens ({bpe.Merges.Count} merges), " +
                          $"eos {bpe.EndOfTextId}, mask {bpe.MaskId}");
        foreach (var name in new[] { "train", "valid" })
        {
            var ids = TokenCorpus.LoadOrEncode(bpe, Path.Combine(corpus, name + ".txt"), Path.Combine(outDir, name + ".u16"),
                m => Console.WriteLine($"[{sw.Elapsed:mm\\:ss}] {m}"));
            long bytes = new FileInfo(Path.Combine(corpus, name + ".txt")).Length;
            Console.WriteLine($"{name}: {ids.Length:N0} tokens, {(double)bytes / ids.Length:F2} bytes/token");
        }
        return 0;
    }
}
