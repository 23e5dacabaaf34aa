namespace TiDAR.Engine.Model;

/// <summary>Element encodings a weight source can hold (ggml type ids).</summary>
public enum SourceType : uint { F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q8_0 = 8, BF16 = 30 }

/// <summary>Shape and encoding of one stored tensor; Dimensions innermost first (GGUF ne).</summary>
public sealed record SourceTensor(string Name, SourceType Type, long[] Dimensions)
{
    public long Elements => Dimensions.Aggregate(1L, (a, b) => a * b);
    /// <summary>[rows, cols] of a matrix (cols innermost); vectors are one row.</summary>
    public (int Rows, int Cols) Matrix => Dimensions.Length switch
    {
        1 => (1, checked((int)Dimensions[0])),
        2 => (checked((int)Dimensions[1]), checked((int)Dimensions[0])),
        _ => throw new InvalidDataException($"Tensor {Name} has {Dimensions.Length} dimensions; a matrix or vector was expected."),
    };
}

/// <summary>Where model weights come from: a GGUF file, or tensors a test made in memory.</summary>
public interface IWeightSource
{
    bool Contains(string name);
    /// <summary>Throws naming the tensor when it is missing.</summary>
    SourceTensor Describe(string name);
    /// <summary>All values as fp32 (dequantized).</summary>
    float[] ReadFloat32(string name);
    /// <summary>Rows [firstRow, firstRow + count) of a matrix as fp32 (for embedding lookups without loading the table).</summary>
    float[] ReadFloat32Rows(string name, int firstRow, int count);
    /// <summary>Rows firstRow.. of a matrix as fp32 into <paramref name="destination"/> (whole rows); sources that can, write without allocating.</summary>
    void ReadFloat32Rows(string name, int firstRow, Span<float> destination)
    {
        int cols = Describe(name).Matrix.Cols;
        ReadFloat32Rows(name, firstRow, destination.Length / cols).CopyTo(destination);
    }
    /// <summary>The stored bytes, in the source's encoding.</summary>
    byte[] ReadRaw(string name);
}
