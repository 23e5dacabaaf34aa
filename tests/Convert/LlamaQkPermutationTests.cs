using TiDAR.WeightsConvert;

namespace TiDAR.Tests.Convert;

public class LlamaQkPermutationTests
{
    /// <summary>numpy's w.reshape(n_head, 2, hd/2, cols).swapaxes(1, 2).reshape(rows, cols), spelled out with explicit
    /// 4-D indices: out[h, i, j, c] = in[h, j, i, c].</summary>
    public static float[] NumpyPermute(float[] w, int nHead, int rows)
    {
        int cols = w.Length / rows, half = rows / nHead / 2;
        var src = new float[nHead, 2, half, cols];
        int k = 0;
        for (int h = 0; h < nHead; h++)
            for (int a = 0; a < 2; a++)
                for (int b = 0; b < half; b++)
                    for (int c = 0; c < cols; c++)
                        src[h, a, b, c] = w[k++];
        var swapped = new float[nHead, half, 2, cols];
        for (int h = 0; h < nHead; h++)
            for (int a = 0; a < 2; a++)
                for (int b = 0; b < half; b++)
                    for (int c = 0; c < cols; c++)
                        swapped[h, b, a, c] = src[h, a, b, c];
        var result = new float[w.Length];
        k = 0;
        foreach (var x in swapped) result[k++] = x; // row-major enumeration = reshape
        return result;
    }

    [Theory]
    [InlineData(4, 64, 3)]   // q: 4 heads of 16
    [InlineData(2, 32, 5)]   // k: 2 heads of 16
    [InlineData(3, 12, 1)]   // a bias vector as [12, 1]
    [InlineData(1, 2, 4)]
    public void MatchesNumpyReshapeSwapaxes(int heads, int rows, int cols)
    {
        var w = Enumerable.Range(0, rows * cols).Select(i => (float)i).ToArray();
        Assert.Equal(NumpyPermute(w, heads, rows), LlamaQkPermutation.Apply(w, heads, rows));
    }

    [Fact]
    public void KnownSmallCase()
    {
        // One head of 4 rows: HF order (x0, x1 | y0, y1) becomes (x0, y0, x1, y1).
        Assert.Equal([0f, 2f, 1f, 3f], LlamaQkPermutation.Apply([0f, 1f, 2f, 3f], 1, 4));
        Assert.Equal([0L, 2L, 1L, 3L, 4L, 6L, 5L, 7L], Enumerable.Range(0, 8).Select(r => LlamaQkPermutation.SourceRow(r, 2, 8)));
    }

    [Fact]
    public void RejectsRowsThatDoNotSplitIntoEvenHeads()
    {
        Assert.Throws<InvalidDataException>(() => LlamaQkPermutation.Check(3, 16));
        Assert.Throws<InvalidDataException>(() => LlamaQkPermutation.Check(4, 12)); // heads of 3
    }
}
