using TiDAR.Engine.Model;

namespace TiDAR.Engine.Generation;

public enum DecodeMode { Ar, Tidar }

/// <summary>One text generation request, as the command line and a server describe it.</summary>
public sealed record TextRequest
{
    /// <summary>Prompt text; ignored when <see cref="PromptTokens"/> is given.</summary>
    public string Prompt { get; init; } = "";
    /// <summary>Exact prompt ids (no BOS added, no template).</summary>
    public IReadOnlyList<int>? PromptTokens { get; init; }
    /// <summary>Wrap the prompt as one user turn of the ChatML template.</summary>
    public bool Chat { get; init; }
    public DecodeMode Mode { get; init; } = DecodeMode.Ar;
    public TidarOptions Tidar { get; init; } = new();
    public int MaxTokens { get; init; } = 128;
    public SamplingOptions Sampling { get; init; } = new();
    public IReadOnlyList<string> StopStrings { get; init; } = [];
    /// <summary>Tokens the context holds (prompt + output); null = the model's, capped at 4096.</summary>
    public int? ContextLength { get; init; }
    public bool HalfPrecisionCache { get; init; } = true;
}

public sealed record TextResult(string Text, IReadOnlyList<int> Tokens, int PromptTokens, StopReason StopReason, GenerationStats Stats);

/// <summary>Text in, text out: tokenizes, runs the AR or TiDAR decoder, streams decoded text and applies stop strings.</summary>
public sealed class TextGenerator(LoadedModel model)
{
    public const int DefaultContextCap = 4096;

    public IReadOnlyList<int> PromptIds(TextRequest request)
    {
        if (request.PromptTokens is { } ids)
        {
            foreach (var id in ids)
                if (id < 0 || id >= model.Config.VocabSize) throw new ArgumentException($"Prompt token {id} is outside the vocabulary (0..{model.Config.VocabSize - 1}).");
            return ids;
        }
        var text = request.Chat ? ChatTemplate.ChatMl([new ChatMessage("user", request.Prompt)]) : request.Prompt;
        return model.Tokenizer.Encode(text, addSpecialTokens: !request.Chat);
    }

    public int ContextLength(TextRequest request)
    {
        int context = request.ContextLength ?? Math.Min(model.Config.ContextLength, DefaultContextCap);
        if (context < 2) throw new ArgumentException($"Context length {context} is too small.");
        return context;
    }

    /// <summary>
    /// Everything about a request that can be checked without decoding (prompt ids, context length, sampling
    /// and TiDAR options): callers about to do slow work first (measuring a latency profile) call it before.
    /// </summary>
    public void Validate(TextRequest request)
    {
        PromptIds(request);
        int context = ContextLength(request);
        request.Sampling.Validate();
        if (request.Mode != DecodeMode.Tidar) return;
        int maxRows = Math.Min(model.Model.Options.MaxRows, model.Model.Options.MaxOutputRows);
        request.Tidar.Validate(context + request.Tidar.ScratchSlots(maxRows), maxRows);
    }

    public TextResult Generate(TextRequest request, Action<string>? onText = null)
    {
        var prompt = PromptIds(request);
        int context = ContextLength(request);
        var stops = new HashSet<int>(model.Tokenizer.EndOfGenerationIds);
        var options = new GenerationOptions { MaxTokens = request.MaxTokens, Sampling = request.Sampling, StopTokens = stops };
        var decoder = model.Tokenizer.CreateStreamDecoder(skipSpecial: true);
        var filter = new StopStringFilter(request.StopStrings);
        var text = new System.Text.StringBuilder();
        bool OnToken(int id)
        {
            var shown = filter.Push(decoder.Add(id));
            text.Append(shown);
            if (shown.Length > 0) onText?.Invoke(shown);
            return !filter.Stopped;
        }

        GenerationResult result;
        if (request.Mode == DecodeMode.Tidar)
        {
            int maxRows = Math.Min(model.Model.Options.MaxRows, model.Model.Options.MaxOutputRows);
            using var cache = model.Model.CreateCache(context + request.Tidar.ScratchSlots(maxRows), request.HalfPrecisionCache);
            result = new TidarDecoder(model.Model, cache).Generate(prompt, options, request.Tidar, OnToken);
        }
        else
        {
            using var cache = model.Model.CreateCache(context, request.HalfPrecisionCache);
            result = new ArDecoder(model.Model, cache).Generate(prompt, options, OnToken);
        }
        if (!filter.Stopped)
        {
            var rest = filter.Push(decoder.Flush()) + filter.Flush();
            text.Append(rest);
            if (rest.Length > 0) onText?.Invoke(rest);
        }
        return new TextResult(text.ToString(), result.Tokens, prompt.Count, result.StopReason, result.Stats);
    }
}
