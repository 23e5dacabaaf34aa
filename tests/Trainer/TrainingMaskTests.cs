using TiDAR.Trainer.Model;

namespace TiDAR.Trainer.Tests;

/// <summary>The training mask against matrices written out by hand from DESIGN.md section 1.</summary>
public class TrainingMaskTests
{
    // Rows/columns: clean 0..S-1, then masks 0..S-1. '1' = may attend.
    private static readonly string[] S4K2 =
    [
        // c0 c1 c2 c3 m0 m1 m2 m3
        "10000000", // clean 0: itself
        "11000000", // clean 1: clean 0..1
        "11100000",
        "11110000",
        "00001100", // mask 0 (block 0): no clean, masks 0..1
        "00001100", // mask 1 (block 0)
        "11000011", // mask 2 (block 1): clean 0..1, masks 2..3
        "11000011", // mask 3 (block 1)
    ];

    private static readonly string[] S6K3 =
    [
        "100000000000",
        "110000000000",
        "111000000000",
        "111100000000",
        "111110000000",
        "111111000000",
        "000000111000", // mask 0..2: block 0, sees no clean token
        "000000111000",
        "000000111000",
        "111000000111", // mask 3..5: block 1, sees clean 0..2
        "111000000111",
        "111000000111",
    ];

    private static readonly string[] S4K4 =
    [
        "10000000",
        "11000000",
        "11100000",
        "11110000",
        "00001111",
        "00001111",
        "00001111",
        "00001111",
    ];

    private static readonly string[] S4K1 =
    [
        "10000000",
        "11000000",
        "11100000",
        "11110000",
        "00001000", // k = 1: mask i sees clean 0..i-1 and itself
        "10000100",
        "11000010",
        "11100001",
    ];

    public static TheoryData<int, int, string[]> Cases => new()
    {
        { 4, 2, S4K2 }, { 6, 3, S6K3 }, { 4, 4, S4K4 }, { 4, 1, S4K1 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void DenseMaskEqualsTheSpecification(int s, int k, string[] expected)
    {
        var m = TidarTrainingMask.Dense(s, k);
        Assert.Equal(2 * s, m.GetLength(0));
        for (int r = 0; r < 2 * s; r++)
        {
            var row = new string(Enumerable.Range(0, 2 * s).Select(c => m[r, c] ? '1' : '0').ToArray());
            Assert.True(expected[r] == row, $"row {r}: expected {expected[r]}, got {row}");
        }
    }

    [Fact]
    public void RowsCarryTokensPositionsAndSlots()
    {
        var rows = TidarTrainingMask.Rows([10, 11, 12, 13], 2, maskToken: 99);
        Assert.Equal([10, 11, 12, 13, 99, 99, 99, 99], rows.Select(r => r.Token));
        Assert.Equal([0, 1, 2, 3, 0, 1, 2, 3], rows.Select(r => r.Position));
        Assert.Equal(Enumerable.Range(0, 8), rows.Select(r => r.Slot));
        Assert.Equal([0L, 1, 2, 3, 0, 1, 2, 3], TidarTrainingMask.Positions(4));
    }

    [Fact]
    public void MatchesTheRuleForLargerShapes()
    {
        foreach (var (s, k) in new[] { (16, 4), (24, 8), (12, 3) })
        {
            var m = TidarTrainingMask.Dense(s, k);
            for (int r = 0; r < 2 * s; r++)
                for (int c = 0; c < 2 * s; c++)
                {
                    bool expected;
                    if (r < s) expected = c <= r;                       // clean: causal over clean
                    else
                    {
                        int i = r - s, b = i / k;
                        expected = c < s ? c < b * k : (c - s) / k == b; // mask: earlier blocks' clean, own block's masks
                    }
                    Assert.Equal(expected, m[r, c]);
                }
        }
    }

    [Fact]
    public void RejectsSequenceNotAMultipleOfTheBlock() =>
        Assert.Throws<ArgumentException>(() => TidarTrainingMask.Dense(6, 4));
}
