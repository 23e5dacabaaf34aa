using TiDAR.Engine.Gguf;

namespace TiDAR.WeightsConvert;

/// <summary>One tensor the converter writes: its GGUF name, where it comes from, the encoding it gets and, for
/// llama q/k, the head count of the RoPE row permutation. <see cref="Rows"/> is the outermost dim (what the
/// permutation reorders), <see cref="Cols"/> the elements per row.</summary>
public sealed record PlannedTensor(string Name, string HfName, long[] HfShape, GgmlType Type, int? PermuteHeads)
{
    public long Rows => HfShape[0];
    public long Cols => HfShape.Skip(1).Aggregate(1L, (a, b) => a * b);
    public long Elements => Rows * Cols;

    /// <summary>ggml ne[]: the PyTorch shape reversed.</summary>
    public ulong[] GgufDims => HfShape.Reverse().Select(d => (ulong)d).ToArray();

    public long OutputBytes => checked(Elements / Type.BlockSize() * Type.BlockBytes());
}
