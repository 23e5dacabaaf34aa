using TiDAR.Engine.Kernels;
using TiDAR.Engine.Reference;

namespace TiDAR.Tests;

/// <summary>The C# reference itself against answers worked out by hand.</summary>
public sealed class ReferenceOpsTests
{
    private static void Near(float expected, float actual, float tol = 1e-6f) => Assert.InRange(actual, expected - tol, expected + tol);

    [Fact]
    public void RmsNormScalesByRootMeanSquare()
    {
        var o = ReferenceOps.RmsNorm(new[] { 3f, 4f }, new[] { 1f, 2f }, 1, 2, 0f);
        float rms = MathF.Sqrt(12.5f);
        Near(3 / rms, o[0]);
        Near(8 / rms, o[1]);
    }

    [Fact]
    public void MatMulIsRowsTimesTransposedWeights()
    {
        // x = [[1, 2]], W = [[3, 4], [5, 6], [7, 8]] -> y = [11, 17, 23]
        Assert.Equal(new[] { 11f, 17f, 23f }, ReferenceOps.MatMul(new[] { 1f, 2f }, new[] { 3f, 4f, 5f, 6f, 7f, 8f }, 1, 3, 2));
    }

    [Fact]
    public void RopeIsIdentityAtZeroAndARotationElsewhere()
    {
        var x = new[] { 1f, 0f, 0.5f, 0.25f };
        Assert.Equal(x, ReferenceOps.Rope(x, new[] { 0 }, 1, 1, 4, 4, 10000f, RopeMode.Neox));
        // Pair 0 turns by exactly `pos` radians whatever the base; neox pairs (0, 2), norm pairs (0, 1).
        var neox = ReferenceOps.Rope(x, new[] { 2 }, 1, 1, 4, 4, 10000f, RopeMode.Neox);
        Near(MathF.Cos(2) * 1 - MathF.Sin(2) * 0.5f, neox[0], 1e-5f);
        Near(MathF.Sin(2) * 1 + MathF.Cos(2) * 0.5f, neox[2], 1e-5f);
        var norm = ReferenceOps.Rope(x, new[] { 2 }, 1, 1, 4, 4, 10000f, RopeMode.Norm);
        Near(MathF.Cos(2), norm[0], 1e-5f);
        Near(MathF.Sin(2), norm[1], 1e-5f);
    }

    [Fact]
    public void SoftmaxOfLogThreeIsAQuarterAndThreeQuarters()
    {
        var o = ReferenceOps.Softmax(new[] { 0f, MathF.Log(3) }, 1, 2);
        Near(0.25f, o[0]);
        Near(0.75f, o[1]);
        var hot = ReferenceOps.Softmax(new[] { 0f, MathF.Log(3) }, 1, 2, temperature: 0.5f); // exp(2 ln 3) = 9
        Near(0.1f, hot[0]);
    }

    [Fact]
    public void SwiGluIsSiluTimesUp()
    {
        var o = ReferenceOps.SwiGlu(new[] { 0f, 1f }, new[] { 5f, 2f });
        Near(0f, o[0]);
        Near(2f / (1f + MathF.Exp(-1f)), o[1]);
    }

    [Fact]
    public void ArgmaxTakesTheLowestIndexOnTies()
    {
        var r = ReferenceOps.Argmax(new[] { 1f, 7f, 7f, 2f }, 1, 4);
        Assert.Equal((1u, 7f), r[0]);
    }

    [Fact]
    public void AttentionAveragesTheVisibleValues()
    {
        // One head, head_dim 2, three cached keys; keys 0 and 2 score equally, key 1 is hidden.
        var q = new[] { 1f, 0f };
        var k = new[] { 1f, 0f, 9f, 9f, 1f, 0f };
        var v = new[] { 2f, 4f, 100f, 100f, 6f, 8f };
        var vis = new[] { new ReferenceOps.Visibility(1, 2, 3) };
        var o = ReferenceOps.Attention(q, k, v, vis, 1, 1, 1, 2, 1f);
        Near(4f, o[0]);
        Near(6f, o[1]);
        var none = ReferenceOps.Attention(q, k, v, new[] { new ReferenceOps.Visibility(0, 0, 0) }, 1, 1, 1, 2, 1f);
        Assert.Equal(new[] { 0f, 0f }, none);
    }

    [Fact]
    public void GroupedQueryHeadsShareTheirKvHead()
    {
        // Two query heads over one KV head see the same single value.
        var q = new[] { 1f, 0f, 0f, 1f };
        var k = new[] { 0.3f, 0.7f };
        var v = new[] { 5f, -5f };
        var o = ReferenceOps.Attention(q, k, v, new[] { new ReferenceOps.Visibility(1, 1, 1) }, 1, 2, 1, 2, 1f);
        Assert.Equal(new[] { 5f, -5f, 5f, -5f }, o);
    }
}
