using TiDAR.Engine.Tokenizer;
using TiDAR.Trainer.Tokenizer;

namespace TiDAR.Trainer.Tests;

public class BpeTests
{
    private static readonly string[] Samples =
    [
        "The quick brown fox jumps over the lazy dog.",
        "  Leading spaces, trailing spaces   \nand\nnew lines\n\n",
        "Numbers 12345 and 3.14, it's isn't we'll they've I'd",
        "naïve café — “quotes” 你好 🙂",
    ];

    [Fact]
    public void LearnsTheRequestedVocabularyWithSpecialTokensLast()
    {
        var bpe = TinyData.Tokenizer;
        Assert.Equal(320, bpe.VocabSize);
        Assert.Equal(318, bpe.EndOfTextId);
        Assert.Equal(319, bpe.MaskId);
        Assert.Equal(320 - 256 - 2, bpe.Merges.Count);
        // Frequent words of the corpus became single tokens.
        Assert.Single(bpe.Encode(" the"));
    }

    [Fact]
    public void EncodeDecodeRoundTrips()
    {
        var bpe = TinyData.Tokenizer;
        foreach (var s in Samples)
            Assert.Equal(s, bpe.Decode(bpe.Encode(s)));
    }

    [Fact]
    public void SavedTokenizerJsonLoadsInTheEngineWithTheSameIds()
    {
        using var dir = new TempDir();
        var bpe = TinyData.Tokenizer;
        bpe.Save(dir.Path);
        var reloaded = ByteLevelBpe.Load(System.IO.Path.Combine(dir.Path, "tokenizer.json"));
        var data = TokenizerData.FromHuggingFace(System.IO.Path.Combine(dir.Path, "tokenizer.json"), System.IO.Path.Combine(dir.Path, "tokenizer_config.json"));
        var engine = new TextTokenizer(data);
        Assert.Equal(bpe.VocabSize, engine.VocabSize);
        Assert.Equal(bpe.EndOfTextId, engine.EosId);
        Assert.True(engine.IsSpecial(bpe.MaskId));
        foreach (var s in Samples.Append(TinyData.Text))
        {
            var ids = bpe.Encode(s);
            Assert.Equal(ids, reloaded.Encode(s));
            Assert.Equal(ids, engine.Encode(s, addSpecialTokens: false));
            Assert.Equal(s, engine.Decode(ids));
        }
        // Special tokens in text are parsed as one token by the engine.
        Assert.Equal([bpe.MaskId], engine.Encode(ByteLevelBpe.Mask, addSpecialTokens: false));
    }
}
