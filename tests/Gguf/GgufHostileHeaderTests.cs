using System.Text;
using TiDAR.Engine.Gguf;

namespace TiDAR.Tests.Gguf;

/// <summary>Hand-built headers that break one rule each; every one must be refused with a message saying which.</summary>
public sealed class GgufHostileHeaderTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Writes raw GGUF pieces little-endian.</summary>
    private sealed class Raw
    {
        private readonly MemoryStream _ms = new();
        private readonly BinaryWriter _w;
        public Raw() => _w = new BinaryWriter(_ms);
        public Raw U32(uint v) { _w.Write(v); return this; }
        public Raw U64(ulong v) { _w.Write(v); return this; }
        public Raw Str(string s) { var b = Encoding.UTF8.GetBytes(s); _w.Write((ulong)b.Length); _w.Write(b); return this; }
        public Raw Bytes(params byte[] b) { _w.Write(b); return this; }
        public Raw Header(ulong tensors, ulong kvs) { _w.Write("GGUF"u8); return U32(3).U64(tensors).U64(kvs); }
        public Raw Tensor(string name, GgmlType type, ulong offset, params ulong[] dims)
        {
            Str(name).U32((uint)dims.Length);
            foreach (var d in dims) U64(d);
            return U32((uint)type).U64(offset);
        }
        public Raw Pad(int alignment = 32) { while (_ms.Length % alignment != 0) _w.Write((byte)0); return this; }
        public Raw Zeros(int n) { _w.Write(new byte[n]); return this; }
        public byte[] ToArray() => _ms.ToArray();
    }

    private GgufFormatException Refused(Raw raw)
    {
        string path = _dir.File("hostile.gguf");
        File.WriteAllBytes(path, raw.ToArray());
        var e = Assert.Throws<GgufFormatException>(() => GgufFile.Open(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("byte offset", e.Message);
        return e;
    }

    [Fact]
    public void DuplicateKeysAndTensorNames()
    {
        Assert.Contains("'a' appears twice", Refused(new Raw().Header(0, 2).Str("a").U32(4).U32(1).Str("a").U32(4).U32(2)).Message);
        var raw = new Raw().Header(2, 0).Tensor("t", GgmlType.F32, 0, 8).Tensor("t", GgmlType.F32, 32, 8).Pad().Zeros(64);
        Assert.Contains("'t' appears twice", Refused(raw).Message);
    }

    [Fact]
    public void BadValueAndElementTypes()
    {
        Assert.Contains("value type id 13", Refused(new Raw().Header(0, 1).Str("k").U32(13).U32(0)).Message);
        Assert.Contains("element type id 99", Refused(new Raw().Header(0, 1).Str("k").U32(9).U32(99).U64(0)).Message);
    }

    [Fact]
    public void ArraysThatCannotFit()
    {
        // 2^40 uint32s claimed, 4 bytes present.
        Assert.Contains("at most", Refused(new Raw().Header(0, 1).Str("k").U32(9).U32(4).U64(1ul << 40).U32(7)).Message);
        // A string element claiming more bytes than the file has.
        Assert.Contains("element 1 of array 'k'", Refused(new Raw().Header(0, 1).Str("k").U32(9).U32(8).U64(2).Str("ok").U64(1000).Bytes(1, 2)).Message);
        // Arrays of arrays nested deeper than the limit.
        var raw = new Raw().Header(0, 1).Str("k").U32(9);
        for (int i = 0; i < 20; i++) raw.U32(9).U64(1);
        raw.U32(4).U64(0);
        Assert.Contains("nests arrays", Refused(raw).Message);
    }

    [Fact]
    public void BadTensorDescriptions()
    {
        Assert.Contains("5 dimensions", Refused(new Raw().Header(1, 0).Tensor("t", GgmlType.F32, 0, 1, 1, 1, 1, 1).Pad().Zeros(32)).Message);
        Assert.Contains("0 dimensions", Refused(new Raw().Header(1, 0).Tensor("t", GgmlType.F32, 0).Pad().Zeros(32)).Message);
        Assert.Contains("dimension 1 is 0", Refused(new Raw().Header(1, 0).Tensor("t", GgmlType.F32, 0, 4, 0).Pad().Zeros(32)).Message);
        Assert.Contains("exceeds 2^63", Refused(new Raw().Header(1, 0).Tensor("t", GgmlType.F32, 0, 1ul << 40, 1ul << 40).Pad().Zeros(32)).Message);
        Assert.Contains("dimension 0 is", Refused(new Raw().Header(1, 0).Tensor("t", GgmlType.F32, 0, ulong.MaxValue).Pad().Zeros(32)).Message);
        Assert.Contains("type id 4", Refused(new Raw().Header(1, 0).Tensor("t", (GgmlType)4, 0, 32).Pad().Zeros(32)).Message);
        Assert.Contains("not a multiple of the 32-element block", Refused(new Raw().Header(1, 0).Tensor("t", GgmlType.Q8_0, 0, 33).Pad().Zeros(64)).Message);
        Assert.Contains("not a multiple of the alignment", Refused(new Raw().Header(1, 0).Tensor("t", GgmlType.F32, 4, 1).Pad().Zeros(64)).Message);
        Assert.Contains("past the end", Refused(new Raw().Header(1, 0).Tensor("t", GgmlType.F32, 0, 16).Pad().Zeros(60)).Message);
        Assert.Contains("past the end", Refused(new Raw().Header(1, 0).Tensor("t", GgmlType.F32, 1ul << 63, 1).Pad().Zeros(60)).Message);
        Assert.Contains("overflows", Refused(new Raw().Header(1, 0).Tensor("t", GgmlType.F64, 0, 1ul << 62).Pad().Zeros(60)).Message);
        Assert.Contains("not valid UTF-8", Refused(new Raw().Header(1, 0).U64(2).Bytes(0xC3, 0x28).U32(1).U64(1).U32(0).U64(0).Pad().Zeros(32)).Message);
    }

    [Fact]
    public void BadAlignment()
    {
        Assert.Contains("power of two", Refused(new Raw().Header(0, 1).Str("general.alignment").U32(4).U32(48)).Message);
        Assert.Contains("power of two", Refused(new Raw().Header(0, 1).Str("general.alignment").U32(4).U32(0)).Message);
        Assert.Contains("must be a uint32", Refused(new Raw().Header(0, 1).Str("general.alignment").U32(10).U64(64)).Message);
        // A huge (valid) alignment pushes the data section past the end of the file.
        var raw = new Raw().Header(1, 1).Str("general.alignment").U32(4).U32(1u << 31).Tensor("t", GgmlType.F32, 0, 1).Pad().Zeros(32);
        Assert.Contains("truncated", Refused(raw).Message);
    }

    [Fact]
    public void CustomAlignmentAndTrailingBytesAreAccepted()
    {
        var raw = new Raw().Header(2, 1).Str("general.alignment").U32(4).U32(16)
            .Tensor("a", GgmlType.F32, 0, 1).Tensor("b", GgmlType.I8, 16, 3).Pad(16).Zeros(19);
        string path = _dir.File("ok.gguf");
        File.WriteAllBytes(path, raw.ToArray());
        using var f = GgufFile.Open(path);
        Assert.Equal(16ul, f.Alignment);
        Assert.Equal(0, f.DataOffset % 16);
        Assert.Equal(3, f.TensorData(f.Tensor("b")).Length);
    }
}
