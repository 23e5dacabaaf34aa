using TiDAR.Engine.Model;

namespace TiDAR.Engine.Generation;

/// <summary>
/// The row lists of TiDAR's forwards (DESIGN.md section 1), and nothing else: positions, slots and
/// visibility of every row, so the specification can be read (and tested) in one place.
/// </summary>
public static class TidarStepLayout
{
    /// <summary>
    /// First step: the prompt's last <paramref name="chunk"/> rows (causal; earlier rows already cached)
    /// plus k mask rows at positions and slots P..P+k-1 that see the whole prompt and each other.
    /// Row order: prompt rows, then mask rows.
    /// </summary>
    public static ForwardRow[] FirstStep(IReadOnlyList<int> prompt, int chunkStart, int k, int maskToken)
    {
        int p = prompt.Count, n = p - chunkStart;
        var rows = new ForwardRow[n + k];
        for (int i = 0; i < n; i++) rows[i] = ForwardRow.Causal(prompt[chunkStart + i], chunkStart + i);
        for (int c = 0; c < k; c++) rows[n + c] = new ForwardRow(maskToken, p + c, p + c, p, p, p + k);
        return rows;
    }

    /// <summary>Slot of pre-draft block B_j's first row (j = 1..k), after the k verify slots.</summary>
    public static int BlockSlot(int length, int k, int j) => length + k + (j - 1) * k;

    /// <summary>
    /// Steady step with <paramref name="length"/> committed tokens and drafts d_0..d_{k-1} for positions
    /// L..L+k-1. Rows 0..k-1 verify: d_i at position and slot L+i, seeing slots [0, L+i].
    /// Then blocks B_1..B_k of k mask rows: slot c of B_j at position L+j+c and slot BlockSlot(L,k,j)+c,
    /// seeing the cache and drafts 0..j-1 (slots [0, L+j)) and all of B_j. Row of B_j slot c: k + (j-1)k + c.
    /// </summary>
    public static ForwardRow[] Step(int length, IReadOnlyList<int> drafts, int maskToken)
    {
        int k = drafts.Count, l = length;
        var rows = new ForwardRow[k * (k + 1)];
        for (int i = 0; i < k; i++) rows[i] = new ForwardRow(drafts[i], l + i, l + i, l + i + 1, 0, 0);
        for (int j = 1; j <= k; j++)
        {
            int s = BlockSlot(l, k, j);
            for (int c = 0; c < k; c++) rows[k + (j - 1) * k + c] = new ForwardRow(maskToken, l + j + c, s + c, l + j, s, s + k);
        }
        return rows;
    }

    public static int BlockRow(int k, int j, int c) => k + (j - 1) * k + c;
}
