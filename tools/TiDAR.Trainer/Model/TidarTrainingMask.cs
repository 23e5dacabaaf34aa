using TiDAR.Engine.Model;

namespace TiDAR.Trainer.Model;

/// <summary>
/// The TiDAR training layout (DESIGN.md section 1) for a clean sequence of length S and block size k.
/// The input is [t_0..t_{S-1} | M x S] (2S rows); clean t_i and mask m_i both sit at position i.
/// <list type="bullet">
/// <item>Clean row i sees clean 0..i (causal), never masks.</item>
/// <item>Mask row i, in block b = i / k, sees clean 0..b*k-1 and the k masks of block b (bidirectional
/// inside the block), no other mask block.</item>
/// </list>
/// The one definition is <see cref="Rows"/> (the engine's row form with visibility intervals, slot j =
/// row j); <see cref="Dense"/> expands it to the boolean matrix the trainer's attention uses.
/// </summary>
public static class TidarTrainingMask
{
    /// <summary>The 2S rows: tokens, positions 0..S-1 twice, slots 0..2S-1, and what each row sees.</summary>
    public static ForwardRow[] Rows(ReadOnlySpan<int> clean, int k, int maskToken)
    {
        int s = clean.Length;
        Check(s, k);
        var rows = new ForwardRow[2 * s];
        for (int i = 0; i < s; i++)
            rows[i] = new ForwardRow(clean[i], i, i, i + 1, 0, 0);
        for (int i = 0; i < s; i++)
        {
            int b = i / k;
            rows[s + i] = new ForwardRow(maskToken, i, s + i, b * k, s + b * k, s + Math.Min((b + 1) * k, s));
        }
        return rows;
    }

    /// <summary>Dense [2S, 2S] visibility: [row, col] is true when row may attend to col.</summary>
    public static bool[,] Dense(int s, int k)
    {
        var rows = Rows(new int[s], k, 0);
        var m = new bool[2 * s, 2 * s];
        for (int r = 0; r < 2 * s; r++)
            for (int c = 0; c < 2 * s; c++)
                m[r, c] = rows[r].Sees(c);
        return m;
    }

    /// <summary>Positions of the 2S rows: 0..S-1, then 0..S-1 again.</summary>
    public static long[] Positions(int s) => Enumerable.Range(0, 2 * s).Select(i => (long)(i % s)).ToArray();

    private static void Check(int s, int k)
    {
        if (s <= 0) throw new ArgumentOutOfRangeException(nameof(s), "sequence length must be positive");
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), "block size must be positive");
        if (s % k != 0) throw new ArgumentException($"sequence length {s} is not a multiple of the block size {k}");
    }
}
