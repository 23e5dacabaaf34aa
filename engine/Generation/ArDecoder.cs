using System.Diagnostics;
using TiDAR.Engine.Model;

namespace TiDAR.Engine.Generation;

/// <summary>Limits and stop conditions of one generation.</summary>
public sealed record GenerationOptions
{
    public int MaxTokens { get; init; } = 128;
    public SamplingOptions Sampling { get; init; } = new();
    /// <summary>Token ids that end generation (not included in the output).</summary>
    public IReadOnlySet<int> StopTokens { get; init; } = new HashSet<int>();
}

/// <summary>
/// Plain autoregressive decoding: one causal prefill (in chunks of the model's MaxRows) and then one
/// row per forward. Greedy steps read back only the argmax token; sampling reads the logit row.
/// </summary>
public sealed class ArDecoder
{
    private readonly GpuModel _model;
    private readonly KvCache _cache;

    public ArDecoder(GpuModel model, KvCache cache)
    {
        _model = model;
        _cache = cache;
    }

    /// <summary>
    /// Generates after <paramref name="prompt"/>. <paramref name="onToken"/> sees each new token as it is
    /// made and returns false to stop (stop strings live in the text layer).
    /// </summary>
    public GenerationResult Generate(IReadOnlyList<int> prompt, GenerationOptions options, Func<int, bool>? onToken = null)
    {
        options.Sampling.Validate();
        if (options.MaxTokens < 0) throw new ArgumentException($"max tokens must be >= 0, got {options.MaxTokens}.");
        if (prompt.Count == 0) throw new ArgumentException("The prompt is empty; give at least one token.");
        int capacity = _cache.Capacity;
        if (prompt.Count >= capacity)
            throw new ArgumentException($"The prompt has {prompt.Count} tokens but the context holds {capacity}; shorten the prompt or raise the context size.");
        var sampler = new Sampler(options.Sampling);
        bool greedy = options.Sampling.Greedy;

        var sw = Stopwatch.StartNew();
        int next = Prefill(prompt, greedy, sampler);
        double prefillMs = sw.Elapsed.TotalMilliseconds;
        sw.Restart();

        var sink = new TokenSink(options, capacity, onToken);
        int forwards = 0, length = prompt.Count;
        while (sink.Offer(next, length))
        {
            var step = _model.Forward(_cache, [ForwardRow.Causal(next, length)], [0], logits: !greedy, argmax: greedy);
            forwards++;
            length++;
            next = greedy ? step.Argmax![0].Token : sampler.Sample(step.Logits!);
        }
        var output = sink.Tokens;
        var stats = new GenerationStats
        {
            PromptTokens = prompt.Count,
            GeneratedTokens = output.Count,
            // The last prefill forward made the first token; each decode forward one more.
            Forwards = forwards + (output.Count > 0 ? 1 : 0),
            PrefillMs = prefillMs,
            DecodeMs = sw.Elapsed.TotalMilliseconds,
        };
        return new GenerationResult(output, sink.Reason!.Value, stats);
    }

    /// <summary>Runs the prompt in chunks; returns the first generated token (from the last prompt row).</summary>
    private int Prefill(IReadOnlyList<int> prompt, bool greedy, Sampler sampler)
    {
        int chunk = _model.Options.MaxRows;
        int lastStart = (prompt.Count - 1) / chunk * chunk;
        PromptPrefill.CacheHead(_model, _cache, prompt, lastStart, chunk);
        int n = prompt.Count - lastStart;
        var last = _model.Forward(_cache, PromptPrefill.Rows(prompt, lastStart, n), [n - 1], logits: !greedy, argmax: greedy);
        return greedy ? last.Argmax![0].Token : sampler.Sample(last.Logits!);
    }
}
