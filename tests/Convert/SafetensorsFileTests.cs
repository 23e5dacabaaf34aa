using TiDAR.WeightsConvert;

namespace TiDAR.Tests.Convert;

public class SafetensorsFileTests
{
    internal static List<StTensor> Sample() =>
    [
        SafetensorsTestWriter.Tensor("a.f32", "F32", [2, 3], [1, -2, 3.5f, 4, 5, -6]),
        SafetensorsTestWriter.Tensor("b.f16", "F16", [4], [0.5f, -1, 2, 65504]),
        SafetensorsTestWriter.Tensor("c.bf16", "BF16", [1, 2, 2], [1.5f, -3, 1e30f, -1e-30f]),
        new StTensor("d.i64", "I64", [2], new byte[16]),
        SafetensorsTestWriter.Tensor("e.scalar", "F32", [], [7]),
    ];

    [Fact]
    public void ReadsHeaderMetadataAndData()
    {
        using var dir = new TempDir();
        string path = dir.File("x.safetensors");
        SafetensorsTestWriter.Write(path, Sample(), new Dictionary<string, string> { ["format"] = "pt" });
        using var f = SafetensorsFile.Open(path);
        Assert.Equal(["a.f32", "b.f16", "c.bf16", "d.i64", "e.scalar"], f.Tensors.Select(t => t.Name));
        Assert.Equal("pt", f.Metadata["format"]);
        var a = f.Tensor("a.f32");
        Assert.Equal(SafetensorsDType.F32, a.DType);
        Assert.Equal([2L, 3L], a.Shape);
        Assert.Equal(24, a.ByteCount);
        Assert.Equal(SafetensorsTestWriter.Encode([1, -2, 3.5f, 4, 5, -6], "F32"), f.Data(a).ToArray());
        Assert.Equal(SafetensorsTestWriter.Encode([3.5f, 4], "F32"), f.Data(a, 8, 8).ToArray());
        Assert.Equal(SafetensorsTestWriter.Encode([1.5f, -3, 1e30f, -1e-30f], "BF16"), f.Data(f.Tensor("c.bf16")).ToArray());
        Assert.Equal(1, f.Tensor("e.scalar").ElementCount);

        var e = Assert.Throws<NotSupportedException>(() => f.Data(f.Tensor("d.i64")));
        Assert.Contains("d.i64", e.Message);
        Assert.Contains("I64", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => f.Data(a, 20, 8));
    }

    [Fact]
    public void OffsetsAreRelativeToTheEndOfTheHeader()
    {
        using var dir = new TempDir();
        string path = dir.File("x.safetensors");
        // Tensor "late" is stored second in the data section but listed first in the header.
        var bytes = SafetensorsTestWriter.Raw("""{"late":{"dtype":"U8","shape":[2],"data_offsets":[2,4]},"early":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}""", 4);
        int data = bytes.Length - 4;
        bytes[data] = 0x00; bytes[data + 1] = 0x3C; // 1.0 in fp16
        File.WriteAllBytes(path, bytes);
        using var f = SafetensorsFile.Open(path);
        Assert.Equal(new byte[] { 0x00, 0x3C }, f.Data(f.Tensor("early")).ToArray());
        Assert.Equal(bytes.Length - 4, f.DataOffset);
    }

    [Theory]
    [InlineData("""{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}""", 8, "needs 8 bytes")]
    [InlineData("""{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 4, "run past")]
    [InlineData("""{"t":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}""", 8, "end before")]
    [InlineData("""{"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", 8, "shape entry 0")]
    [InlineData("""{"t":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}""", 8, "shape entry 0")]
    [InlineData("""{"t":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}}""", 8, "too many elements")]
    [InlineData("""{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,18446744073709551615]}}""", 8, "data_offsets[1]")]
    [InlineData("""{"t":{"dtype":"F32","shape":[2],"data_offsets":[0]}}""", 8, "2")]
    [InlineData("""{"t":{"dtype":"F32","shape":[2]}}""", 8, "data_offsets")]
    [InlineData("""{"t":{"shape":[2],"data_offsets":[0,8]}}""", 8, "dtype")]
    [InlineData("""{"t":[1,2]}""", 8, "not an object")]
    [InlineData("""{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "twice")]
    [InlineData("""{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"u":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "overlap")]
    [InlineData("""{"__metadata__":{"a":1}}""", 0, "not a string")]
    [InlineData("""[1,2,3]""", 0, "JSON object")]
    [InlineData("""{"t":""", 0, "not valid JSON")]
    public void InvalidHeadersNameTheFileTensorAndProblem(string header, int dataBytes, string problem)
    {
        using var dir = new TempDir();
        string path = dir.File("bad.safetensors");
        File.WriteAllBytes(path, SafetensorsTestWriter.Raw(header, dataBytes));
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.Contains("bad.safetensors", e.Message);
        Assert.Contains(problem, e.Message);
        if (header.Contains("\"t\":{")) Assert.Contains("'t'", e.Message);
    }

    [Fact]
    public void UnknownDtypeIsAcceptedUntilRead()
    {
        using var dir = new TempDir();
        string path = dir.File("x.safetensors");
        File.WriteAllBytes(path, SafetensorsTestWriter.Raw("""{"w":{"dtype":"F4","shape":[4],"data_offsets":[0,2]}}""", 2));
        using var f = SafetensorsFile.Open(path);
        Assert.Null(f.Tensor("w").DType);
        var e = Assert.Throws<NotSupportedException>(() => f.Data(f.Tensor("w")));
        Assert.Contains("'w'", e.Message);
        Assert.Contains("F4", e.Message);
    }

    [Fact]
    public void HeaderLengthIsCheckedBeforeAnythingIsAllocated()
    {
        using var dir = new TempDir();
        string path = dir.File("x.safetensors");
        var bytes = SafetensorsTestWriter.Build(Sample());
        // Header length claims nearly 2^64 bytes.
        bytes[7] = 0xFF;
        File.WriteAllBytes(path, bytes);
        Assert.Contains("runs past the end", Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path)).Message);
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Contains("3 bytes", Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path)).Message);
        File.WriteAllBytes(path, []);
        Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path));
        Assert.Throws<FileNotFoundException>(() => SafetensorsFile.Open(dir.File("none.safetensors")));
    }
}
