using TiDAR.Engine.Model;

namespace TiDAR.Engine.Generation;

/// <summary>Causal prompt rows, and caching a prompt's head in chunks, shared by the AR and TiDAR decoders.</summary>
internal static class PromptPrefill
{
    /// <summary>Causal rows for prompt[start, start + count) at positions and slots equal to their index.</summary>
    public static ForwardRow[] Rows(IReadOnlyList<int> prompt, int start, int count)
    {
        var rows = new ForwardRow[count];
        for (int i = 0; i < count; i++) rows[i] = ForwardRow.Causal(prompt[start + i], start + i);
        return rows;
    }

    /// <summary>Writes the K/V of prompt[0, end) into the cache, forwards of at most <paramref name="chunk"/> rows, no outputs.</summary>
    public static void CacheHead(GpuModel model, KvCache cache, IReadOnlyList<int> prompt, int end, int chunk)
    {
        for (int start = 0; start < end; start += chunk)
            model.Forward(cache, Rows(prompt, start, Math.Min(chunk, end - start)), [], logits: false);
    }
}
