using TiDAR.Engine.Generation;

namespace TiDAR.Tests.Generation;

public sealed class SamplerTests
{
    private static readonly float[] Logits = [1.0f, 2.0f, 0.5f, 2.0f, -1f, 0f];

    [Fact]
    public void GreedyIsArgmaxWithLowestIdOnTies() => Assert.Equal(1, new Sampler(new SamplingOptions()).Sample(Logits));

    [Fact]
    public void TopKOfOneIsGreedy()
    {
        var s = new Sampler(new SamplingOptions { Temperature = 3f, TopK = 1, Seed = 4 });
        for (int i = 0; i < 50; i++) Assert.Equal(1, s.Sample(Logits));
    }

    [Fact]
    public void TopPKeepsTheSmallestSetReachingP()
    {
        // softmax([0, ln 2, ln 7]) = [0.1, 0.2, 0.7]: p = 0.75 keeps {2, 1} renormalised to [0, 2/9, 7/9].
        var p = Sampler.Distribution([0f, MathF.Log(2), MathF.Log(7)], new SamplingOptions { Temperature = 1, TopP = 0.75f });
        Assert.Equal(0, p[0]);
        Assert.Equal(2 / 9.0, p[1], 6);
        Assert.Equal(7 / 9.0, p[2], 6);
    }

    [Fact]
    public void DrawsFollowTheDistribution()
    {
        // Chi-square goodness of fit over 20000 draws, 5 degrees of freedom: 20.5 is the 0.999 quantile.
        var options = new SamplingOptions { Temperature = 0.8f, Seed = 12345 };
        var p = Sampler.Distribution(Logits, options);
        var counts = new int[Logits.Length];
        var s = new Sampler(options);
        const int n = 20000;
        for (int i = 0; i < n; i++) counts[s.Sample(Logits)]++;
        double chi2 = 0;
        for (int i = 0; i < counts.Length; i++) chi2 += Math.Pow(counts[i] - n * p[i], 2) / (n * p[i]);
        Assert.True(chi2 < 20.5, $"chi-square {chi2:F1}");
    }

    [Theory]
    [InlineData(-1f, 0, 1f)]
    [InlineData(1f, -2, 1f)]
    [InlineData(1f, 0, 0f)]
    [InlineData(1f, 0, 1.5f)]
    [InlineData(float.NaN, 0, 1f)]
    public void BadOptionsAreRejected(float t, int k, float p) =>
        Assert.Throws<ArgumentException>(() => new Sampler(new SamplingOptions { Temperature = t, TopK = k, TopP = p }));
}
