using System.Buffers.Binary;
using TiDAR.WeightsConvert;

namespace TiDAR.Tests.Convert;

/// <summary>Every failure is a clear exception of a known type, and leaves no file (nor temp file) behind.</summary>
public class ConverterErrorTests
{
    private static Exception ConvertFails(TempDir dir, string hfDir, ConvertOptions? options = null)
    {
        string output = dir.File("out.gguf");
        var e = Record.Exception(() => GgufConverter.Convert(hfDir, output, options));
        Assert.NotNull(e);
        Assert.False(File.Exists(output), "a failed conversion left its output file");
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
        return e!;
    }

    private static List<StTensor> Replace(List<StTensor> list, string name, Func<StTensor, StTensor> edit) =>
        list.Select(t => t.Name == name ? edit(t) : t).ToList();

    [Fact]
    public void MissingFilesAreNamed()
    {
        using var dir = new TempDir();
        var ckpt = TinyCheckpoint.Write(dir.Sub("hf"), TinySpec.For("qwen3"));
        File.Delete(Path.Combine(ckpt.Dir, "config.json"));
        var e = Assert.IsType<FileNotFoundException>(ConvertFails(dir, ckpt.Dir));
        Assert.Contains("config.json", e.Message);

        ckpt = TinyCheckpoint.Write(dir.Sub("hf2"), TinySpec.For("qwen3"));
        File.Delete(Path.Combine(ckpt.Dir, "tokenizer.json"));
        Assert.Contains("tokenizer.json", Assert.IsType<FileNotFoundException>(ConvertFails(dir, ckpt.Dir)).Message);

        ckpt = TinyCheckpoint.Write(dir.Sub("hf3"), TinySpec.For("qwen3"));
        File.Delete(Path.Combine(ckpt.Dir, "model.safetensors"));
        Assert.Contains("model.safetensors", Assert.IsType<FileNotFoundException>(ConvertFails(dir, ckpt.Dir)).Message);

        ckpt = TinyCheckpoint.Write(dir.Sub("hf4"), TinySpec.For("qwen3") with { Shards = 2 });
        File.Delete(Path.Combine(ckpt.Dir, "model-00002-of-00002.safetensors"));
        Assert.Contains("model-00002-of-00002.safetensors", Assert.IsType<FileNotFoundException>(ConvertFails(dir, ckpt.Dir)).Message);

        Assert.IsType<DirectoryNotFoundException>(ConvertFails(dir, dir.File("nowhere")));
    }

    [Fact]
    public void UnsupportedArchitecture()
    {
        using var dir = new TempDir();
        var ckpt = TinyCheckpoint.Write(dir.Sub("hf"), TinySpec.For("llama") with { Architecture = "GemmaForCausalLM" });
        var e = Assert.IsType<NotSupportedException>(ConvertFails(dir, ckpt.Dir));
        Assert.Contains("GemmaForCausalLM", e.Message);
        Assert.Contains("Qwen3ForCausalLM", e.Message);
    }

    [Fact]
    public void UnsupportedDtypeNamesTensorAndDtype()
    {
        using var dir = new TempDir();
        var ckpt = TinyCheckpoint.Write(dir.Sub("hf"), TinySpec.For("llama") with
        {
            EditTensors = l => Replace(l, "model.layers.1.mlp.up_proj.weight", t => new StTensor(t.Name, "I64", t.Shape, new byte[t.Shape[0] * t.Shape[1] * 8])),
        });
        var e = Assert.IsType<NotSupportedException>(ConvertFails(dir, ckpt.Dir));
        Assert.Contains("model.layers.1.mlp.up_proj.weight", e.Message);
        Assert.Contains("I64", e.Message);
    }

    [Fact]
    public void ShapeMismatchAgainstTheConfig()
    {
        using var dir = new TempDir();
        var ckpt = TinyCheckpoint.Write(dir.Sub("hf"), TinySpec.For("qwen2") with
        {
            EditTensors = l => Replace(l, "model.layers.0.self_attn.k_proj.weight",
                t => SafetensorsTestWriter.Tensor(t.Name, t.DType, [t.Shape[1], t.Shape[0]], new float[t.Shape[0] * t.Shape[1]])),
        });
        var e = Assert.IsType<InvalidDataException>(ConvertFails(dir, ckpt.Dir));
        Assert.Contains("model.layers.0.self_attn.k_proj.weight", e.Message);
        Assert.Contains("[64, 32]", e.Message);
        Assert.Contains("[32, 64]", e.Message);
    }

    [Fact]
    public void MissingAndMisplacedTensors()
    {
        using var dir = new TempDir();
        var ckpt = TinyCheckpoint.Write(dir.Sub("hf"), TinySpec.For("qwen2") with
        {
            EditTensors = l => l.Where(t => t.Name != "model.layers.1.self_attn.v_proj.bias").ToList(),
        });
        Assert.Contains("blk.1.attn_v.bias", Assert.IsType<InvalidDataException>(ConvertFails(dir, ckpt.Dir)).Message);

        ckpt = TinyCheckpoint.Write(dir.Sub("hf2"), TinySpec.For("llama") with { EditTensors = l => l.Where(t => t.Name != "lm_head.weight").ToList() });
        Assert.Contains("lm_head", Assert.IsType<InvalidDataException>(ConvertFails(dir, ckpt.Dir)).Message);

        // A third layer the config does not have.
        ckpt = TinyCheckpoint.Write(dir.Sub("hf3"), TinySpec.For("llama") with
        {
            EditTensors = l => l.Append(SafetensorsTestWriter.Tensor("model.layers.2.mlp.up_proj.weight", "BF16", [2], [1, 2])).ToList(),
        });
        Assert.Contains("model.layers.2.mlp.up_proj.weight", Assert.IsType<InvalidDataException>(ConvertFails(dir, ckpt.Dir)).Message);

        // Config says 3 layers, checkpoint has 2.
        ckpt = TinyCheckpoint.Write(dir.Sub("hf4"), TinySpec.For("qwen3") with { EditConfig = c => c["num_hidden_layers"] = 3 });
        Assert.Contains("blk.2.", Assert.IsType<InvalidDataException>(ConvertFails(dir, ckpt.Dir)).Message);
    }

    [Fact]
    public void TruncatedSafetensors()
    {
        using var dir = new TempDir();
        var ckpt = TinyCheckpoint.Write(dir.Sub("hf"), TinySpec.For("qwen3"));
        string path = Path.Combine(ckpt.Dir, "model.safetensors");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 100)]);
        var e = Assert.IsType<InvalidDataException>(ConvertFails(dir, ckpt.Dir));
        Assert.Contains("model.safetensors", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void ExistingOutputSurvivesAFailedConversion()
    {
        using var dir = new TempDir();
        var ckpt = TinyCheckpoint.Write(dir.Sub("hf"), TinySpec.For("qwen3"));
        string output = dir.File("keep.gguf");
        File.WriteAllText(output, "old");
        File.Delete(Path.Combine(ckpt.Dir, "tokenizer.json"));
        Assert.Throws<FileNotFoundException>(() => GgufConverter.Convert(ckpt.Dir, output));
        Assert.Equal("old", File.ReadAllText(output));
    }

    private const string Damage = "0123456789\"{}[],:-x\u0001\u00ff";

    [Fact]
    public void CorruptHeadersThroughTheConverter()
    {
        using var dir = new TempDir();
        var ckpt = TinyCheckpoint.Write(dir.Sub("hf"), TinySpec.For("qwen2") with { Layers = 1 });
        string path = Path.Combine(ckpt.Dir, "model.safetensors");
        var original = File.ReadAllBytes(path);
        int headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(original);
        var rng = new Random(11);
        int failures = 0;
        for (int trial = 0; trial < 60; trial++)
        {
            var bytes = (byte[])original.Clone();
            if (trial % 3 == 0) bytes = bytes[..rng.Next(bytes.Length)];
            else bytes[rng.Next(headerEnd)] = (byte)Damage[rng.Next(Damage.Length)];
            File.WriteAllBytes(path, bytes);
            string output = dir.File("fuzz.gguf");
            var e = Record.Exception(() => GgufConverter.Convert(ckpt.Dir, output));
            if (e is null) { File.Delete(output); continue; }
            failures++;
            Assert.True(e is InvalidDataException or NotSupportedException, $"trial {trial}: {e.GetType().Name}: {e.Message}");
            Assert.False(File.Exists(output));
        }
        Assert.True(failures > 30);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }
}
