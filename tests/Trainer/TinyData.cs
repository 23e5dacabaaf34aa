using TiDAR.Trainer.Model;
using TiDAR.Trainer.Tokenizer;

namespace TiDAR.Trainer.Tests;

/// <summary>A tiny English corpus and a tokenizer trained on it, shared by the tests.</summary>
public static class TinyData
{
    public const string Text = """
        The quick brown fox jumps over the lazy dog. The dog sleeps in the sun, and the fox runs into the woods.
        It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness.
        Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse,
        and nothing particular to interest me on shore, I thought I would sail about a little and see the watery part of the world.
        Alice was beginning to get very tired of sitting by her sister on the bank, and of having nothing to do.
        Fellow-Citizens of the Senate and House of Representatives: I feel much satisfaction in being able to report
        that the state of the Union is strong, and that the progress of public credit continues.
        A penny saved is a penny earned. Early to bed and early to rise makes a man healthy, wealthy and wise.
        """;

    public static string[] Documents => Text.Split('.', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(s => s + ".").ToArray();

    // Lazy: test classes run in parallel and must share one trained tokenizer.
    private static readonly Lazy<ByteLevelBpe> _bpe = new(() => ByteLevelBpe.Train(Enumerable.Repeat(Text, 3), 320));
    public static ByteLevelBpe Tokenizer => _bpe.Value;

    /// <summary>The corpus as one token stream (documents separated by end-of-text), repeated.</summary>
    public static ushort[] Tokens(int repeat = 4)
    {
        var ids = new List<int>();
        for (int r = 0; r < repeat; r++)
            foreach (var d in Documents) { Tokenizer.EncodeInto(d + "\n", ids); ids.Add(Tokenizer.EndOfTextId); }
        return ids.Select(i => (ushort)i).ToArray();
    }

    public static TidarConfig TinyConfig(int blockSize = 4) => new()
    {
        VocabSize = Tokenizer.VocabSize, Dim = 64, Layers = 2, Heads = 4, KvHeads = 2, HeadDim = 16, FfnDim = 96,
        MaskTokenId = Tokenizer.MaskId, EosTokenId = Tokenizer.EndOfTextId, BlockSize = blockSize,
    };
}

public sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "tidar-trainer-tests-" + Guid.NewGuid().ToString("N"));
    public TempDir() => Directory.CreateDirectory(Path);
    public void Dispose() { try { Directory.Delete(Path, true); } catch (IOException) { } }
}
