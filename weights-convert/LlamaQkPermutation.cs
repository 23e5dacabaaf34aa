namespace TiDAR.WeightsConvert;

/// <summary>
/// The row order llama.cpp's convert_hf_to_gguf.py gives llama q/k projections (and their biases):
/// <c>w.reshape(n_head, 2, rows // n_head // 2, *rest).swapaxes(1, 2).reshape(w.shape)</c>. Hugging Face stores
/// each head's rotary pairs as (i, i + d/2) ("neox"); after this permutation they are adjacent (2i, 2i + 1), the
/// "norm" pairing llama.cpp's llama models use. For K, n_head is the number of KV heads.
/// </summary>
public static class LlamaQkPermutation
{
    /// <summary>The source row that lands at <paramref name="row"/> of the permuted tensor: within each head,
    /// output row 2i + j comes from source row j * (headDim / 2) + i.</summary>
    public static long SourceRow(long row, int heads, long rows)
    {
        Check(heads, rows);
        long headDim = rows / heads, half = headDim / 2;
        long h = row / headDim, within = row % headDim;
        long i = within / 2, j = within % 2;
        return h * headDim + j * half + i;
    }

    /// <summary>Throws <see cref="InvalidDataException"/> unless <paramref name="rows"/> splits into <paramref name="heads"/> heads of an even size.</summary>
    public static void Check(int heads, long rows)
    {
        if (heads <= 0 || rows <= 0 || rows % heads != 0 || (rows / heads) % 2 != 0)
            throw new InvalidDataException($"Cannot permute {rows} rows for RoPE: they do not split into {heads} heads of an even size.");
    }

    /// <summary>Applies the permutation to a row-major [rows, cols] matrix (a vector is [n, 1]).</summary>
    public static float[] Apply(ReadOnlySpan<float> values, int heads, long rows)
    {
        Check(heads, rows);
        if (values.Length % rows != 0) throw new ArgumentException($"{values.Length} values do not make {rows} rows.", nameof(values));
        int cols = (int)(values.Length / rows);
        var result = new float[values.Length];
        for (long r = 0; r < rows; r++)
            values.Slice((int)(SourceRow(r, heads, rows) * cols), cols).CopyTo(result.AsSpan((int)(r * cols), cols));
        return result;
    }
}
