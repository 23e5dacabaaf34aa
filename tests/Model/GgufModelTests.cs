using TiDAR.Engine.Gguf;
using TiDAR.Engine.Model;
using TiDAR.Engine.Reference;

namespace TiDAR.Tests.Model;

/// <summary>Models loaded from GGUF files run on the device exactly as the reference runs the file's weights.</summary>
[Collection("gpu")]
public sealed class GgufModelTests(GpuFixture gpu) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tidar-gguf-model-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static IEnumerable<object[]> Cases()
    {
        foreach (var arch in Enum.GetValues<Architecture>())
            foreach (var type in new[] { GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0 })
                yield return [arch, type];
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void LoadedModelMatchesReferenceOnTheFileWeights(Architecture arch, GgmlType type)
    {
        var config = GgufModels.Config(arch);
        var path = Path.Combine(_dir, $"{arch}-{type}.gguf");
        GgufModels.Write(path, config, TinyModels.Weights(config, seed: 17), type);
        using var loaded = LoadedModel.Open(gpu.Device, path, new LoadOptions { MaxRows = 16 });
        Assert.Equal(config with { TiedEmbeddings = loaded.Config.TiedEmbeddings, ContextLength = loaded.Config.ContextLength }, loaded.Config);
        Assert.Equal(GgufModels.VocabSize, loaded.Tokenizer.VocabSize);

        var reference = new ReferenceModel(loaded.Config, new GgufWeightSource(loaded.File), 32);
        using var cache = loaded.Model.CreateCache(32, halfPrecision: false);
        var ids = loaded.Tokenizer.Encode("hello world");
        var rows = ids.Select((t, i) => ForwardRow.Causal(t, i)).ToArray();
        var outputs = Enumerable.Range(0, rows.Length).ToArray();
        var expected = reference.Forward(rows, outputs);
        var got = loaded.Model.Forward(cache, rows, outputs).Logits!;
        Assert.True(ReferenceOps.NormalizedError(got, expected) < 1e-4, $"normalised error {ReferenceOps.NormalizedError(got, expected):E2}");
    }

    [Fact]
    public void UnknownArchitectureIsNamed()
    {
        var config = GgufModels.Config(Architecture.Llama);
        var path = Path.Combine(_dir, "gpt9.gguf");
        GgufModels.Write(path, config, TinyModels.Weights(config, 1), GgmlType.F32, architectureName: "gpt9");
        var e = Assert.Throws<NotSupportedException>(() => LoadedModel.Open(gpu.Device, path));
        Assert.Contains("gpt9", e.Message);
    }

    [Fact]
    public void MissingTensorIsNamed()
    {
        var config = GgufModels.Config(Architecture.Qwen3);
        var weights = TinyModels.Weights(config, 1);
        var partial = new MemoryWeightSource();
        foreach (var n in weights.Names.Where(n => n != TensorNames.Down(1)))
            partial.Add(n, weights.ReadFloat32(n), weights.Describe(n).Dimensions);
        var path = Path.Combine(_dir, "partial.gguf");
        GgufModels.Write(path, config, partial, GgmlType.F32);
        var e = Assert.ThrowsAny<Exception>(() => LoadedModel.Open(gpu.Device, path));
        Assert.Contains(TensorNames.Down(1), e.Message);
    }

    [Fact]
    public void MissingOrCorruptFilesGetClearErrors()
    {
        Assert.Throws<FileNotFoundException>(() => LoadedModel.Open(gpu.Device, Path.Combine(_dir, "nope.gguf")));
        var junk = Path.Combine(_dir, "junk.gguf");
        File.WriteAllText(junk, "this is not a model");
        Assert.Throws<GgufFormatException>(() => LoadedModel.Open(gpu.Device, junk));
    }
}
