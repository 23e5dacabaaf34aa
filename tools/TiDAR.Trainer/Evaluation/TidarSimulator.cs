using TiDAR.Trainer.Model;
using static TorchSharp.torch;

namespace TiDAR.Trainer.Evaluation;

/// <summary>
/// Exact greedy TiDAR decoding (DESIGN.md section 1) on the TorchSharp model, recomputing the whole
/// context each forward (no KV cache): a fast, independent check of tokens per forward during
/// training. The engine's TidarDecoder is the reference for the published numbers.
/// </summary>
public static class TidarSimulator
{
    public sealed record Result(int[] Tokens, int Forwards);

    public static Result Generate(TidarTransformer model, int[] prompt, int k, int maxTokens)
    {
        using var _ = no_grad();
        int mask = model.Config.MaskTokenId;
        var committed = new List<int>(prompt);
        var output = new List<int>();

        // First forward: causal prompt + k masks at positions P..P+k-1 that see the prompt and each other.
        int p = prompt.Length;
        var tokens = prompt.Concat(Enumerable.Repeat(mask, k)).ToArray();
        var positions = Enumerable.Range(0, p + k).ToArray();
        var vis = new bool[p + k, p + k];
        for (int r = 0; r < p; r++) for (int c = 0; c <= r; c++) vis[r, c] = true;
        for (int r = p; r < p + k; r++) for (int c = 0; c < p + k; c++) vis[r, c] = true;
        var argmax = Run(model, tokens, positions, vis);
        var drafts = new int[k];
        drafts[0] = argmax[p - 1];
        for (int c = 1; c < k; c++) drafts[c] = argmax[p + c];
        int forwards = 1;
        output.Add(drafts[0]);

        while (output.Count < maxTokens)
        {
            int L = committed.Count;
            int n = L + k + k * k;
            tokens = new int[n];
            positions = new int[n];
            vis = new bool[n, n];
            for (int r = 0; r < L; r++) { tokens[r] = committed[r]; positions[r] = r; for (int c = 0; c <= r; c++) vis[r, c] = true; }
            for (int i = 0; i < k; i++)
            {
                int r = L + i;
                tokens[r] = drafts[i]; positions[r] = L + i;
                for (int c = 0; c < L; c++) vis[r, c] = true;
                for (int c = 0; c <= i; c++) vis[r, L + c] = true;
            }
            for (int j = 1; j <= k; j++)
                for (int c = 0; c < k; c++)
                {
                    int r = L + k + (j - 1) * k + c;
                    tokens[r] = mask; positions[r] = L + j + c;
                    for (int q = 0; q < L; q++) vis[r, q] = true;
                    for (int q = 0; q < j; q++) vis[r, L + q] = true;
                    for (int q = 0; q < k; q++) vis[r, L + k + (j - 1) * k + q] = true;
                }
            argmax = Run(model, tokens, positions, vis);
            forwards++;
            int a = 1;
            while (a < k && drafts[a] == argmax[L + a - 1]) a++;
            for (int i = 0; i < a; i++) committed.Add(drafts[i]);
            for (int i = 1; i < a && output.Count < maxTokens; i++) output.Add(drafts[i]);
            if (output.Count >= maxTokens) break;
            var next = new int[k];
            next[0] = argmax[L + a - 1];
            for (int c = 1; c < k; c++) next[c] = argmax[L + k + (a - 1) * k + c];
            drafts = next;
            output.Add(drafts[0]);
        }
        return new Result(output.Take(maxTokens).ToArray(), forwards);
    }

    private static int[] Run(TidarTransformer model, int[] tokens, int[] positions, bool[,] vis)
    {
        using var scope = NewDisposeScope();
        int n = tokens.Length;
        var flat = new bool[n * n];
        for (int r = 0; r < n; r++) for (int c = 0; c < n; c++) flat[r * n + c] = vis[r, c];
        var logits = model.forward(tensor(tokens.Select(t => (long)t).ToArray(), [1, n]),
            tensor(positions.Select(t => (long)t).ToArray()), tensor(flat, [n, n]));
        return logits[0].argmax(-1).data<long>().Select(v => (int)v).ToArray();
    }

    /// <summary>Plain greedy AR with full recompute (the exactness reference for the simulator).</summary>
    public static int[] GreedyAr(TidarTransformer model, int[] prompt, int maxTokens)
    {
        using var _ = no_grad();
        var gen = GreedyGenerator.Generate(model, tensor(prompt.Select(t => (long)t).ToArray(), [1, prompt.Length]), maxTokens);
        return gen[0].data<long>().Skip(prompt.Length).Select(v => (int)v).ToArray();
    }
}
