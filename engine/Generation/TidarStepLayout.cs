using TiDAR.Engine.Model;

namespace TiDAR.Engine.Generation;

/// <summary>
/// The row lists of TiDAR's forwards (DESIGN.md section 1), and nothing else: positions, slots and
/// visibility of every row, so the specification can be read (and tested) in one place.
/// </summary>
public static class TidarStepLayout
{
    /// <summary>
    /// First step: the prompt's rows from <paramref name="chunkStart"/> (causal; earlier rows already
    /// cached) plus k mask rows at positions and slots P..P+k-1 that see the whole prompt and each other.
    /// Row order: prompt rows, then mask rows.
    /// </summary>
    public static ForwardRow[] FirstStep(IReadOnlyList<int> prompt, int chunkStart, int k, int maskToken)
    {
        int p = prompt.Count, n = p - chunkStart;
        var rows = new ForwardRow[n + k];
        PromptPrefill.Rows(prompt, chunkStart, n).CopyTo(rows, 0);
        for (int c = 0; c < k; c++) rows[n + c] = new ForwardRow(maskToken, p + c, p + c, p, p, p + k);
        return rows;
    }

    /// <summary>
    /// Steady step with <paramref name="length"/> committed tokens and v = drafts.Count drafts d_0..d_{v-1}
    /// for positions L..L+v-1. Rows 0..v-1 verify: d_i at position and slot L+i, seeing slots [0, L+i].
    /// Then one pre-draft block of k mask rows for each j in <paramref name="blocks"/> (1 &lt;= j &lt;= v, the
    /// outcome "j drafts accepted"): slot c of B_j at position L+j+c, in slot S_b + c with S_b = L + v + b*k
    /// for the b-th listed block, seeing the cache and drafts 0..j-1 (slots [0, L+j)) and all of B_j.
    /// The full step of the paper is v = k with blocks 1..k: k(k+1) rows.
    /// </summary>
    public static ForwardRow[] Step(int length, IReadOnlyList<int> drafts, IReadOnlyList<int> blocks, int k, int maskToken)
    {
        int v = drafts.Count, l = length;
        var rows = new ForwardRow[v + blocks.Count * k];
        for (int i = 0; i < v; i++) rows[i] = new ForwardRow(drafts[i], l + i, l + i, l + i + 1, 0, 0);
        for (int b = 0; b < blocks.Count; b++)
        {
            int j = blocks[b];
            if (j < 1 || j > v) throw new ArgumentOutOfRangeException(nameof(blocks), $"Block {j} needs 1 <= j <= {v}.");
            int s = l + v + b * k;
            for (int c = 0; c < k; c++) rows[v + b * k + c] = new ForwardRow(maskToken, l + j + c, s + c, l + j, s, s + k);
        }
        return rows;
    }

    /// <summary>The paper's full step: k drafts and all k pre-draft blocks.</summary>
    public static ForwardRow[] Step(int length, IReadOnlyList<int> drafts, int maskToken) =>
        Step(length, drafts, Enumerable.Range(1, drafts.Count).ToArray(), drafts.Count, maskToken);

    /// <summary>Row of slot c of the b-th listed block in a step with v drafts.</summary>
    public static int BlockRow(int v, int k, int b, int c) => v + b * k + c;

    /// <summary>Row of slot c of B_j in the paper's full step (v = k, blocks 1..k).</summary>
    public static int BlockRow(int k, int j, int c) => BlockRow(k, k, j - 1, c);

    /// <summary>Slots a step uses past the committed length.</summary>
    public static int ScratchSlots(int v, int blocks, int k) => v + blocks * k;
}
