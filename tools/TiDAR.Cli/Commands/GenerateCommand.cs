using System.CommandLine;
using System.Text.Json;
using TiDAR.Engine.Generation;
using TiDAR.Engine.Model;
using TiDAR.Engine.Vulkan;

namespace TiDAR.Cli;

/// <summary>`tidar generate`: text (or token ids) in, streamed text out; --json for one machine-readable object.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "GGUF model file (default: TIDAR_MODEL, else models/tidar-default.gguf)" };
        var mode = new Option<string?>("--mode") { Description = "ar or tidar (default: tidar when the model has a mask token, else ar)" };
        mode.AcceptOnlyFromAmong("ar", "tidar");
        var block = new Option<string?>("--block") { Description = "TiDAR block size k (drafts per step), or auto: k and the pre-drafted outcomes chosen per step from this device's latency profile and the acceptance seen (default: auto)" };
        var verify = new Option<string>("--verify") { Description = "exact (lossless, default) or paper (the paper's mixed logits; faster, not lossless)", DefaultValueFactory = _ => "exact" };
        verify.AcceptOnlyFromAmong("exact", "paper");
        var beta = new Option<float>("--beta") { Description = "paper mode: weight of AR logits in beta*AR + (1-beta)*Diff (0 = trust the drafts, as the paper's code)", DefaultValueFactory = _ => 0f };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Most tokens to generate", DefaultValueFactory = _ => 128 };
        var temperature = new Option<float>("--temperature") { Description = "0 = greedy", DefaultValueFactory = _ => 0f };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling threshold (1 = off)", DefaultValueFactory = _ => 1f };
        var topK = new Option<int>("--top-k") { Description = "Keep the K most likely tokens (0 = off)", DefaultValueFactory = _ => 0 };
        var seed = new Option<int>("--seed") { Description = "Random seed for sampling", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (text, tokens, stats) instead of streaming text" };
        var promptTokens = new Option<string?>("--prompt-tokens") { Description = "The prompt as token ids ID,ID,... (exactly these, no BOS)" };
        var chat = new Option<bool>("--chat") { Description = "Wrap the prompt in the ChatML template (Qwen chat models)" };
        var stop = new Option<string[]>("--stop") { Description = "Stop when this text appears (repeatable)", AllowMultipleArgumentsPerToken = false };
        var context = new Option<int?>("--context") { Description = "Context length in tokens (default: the model's, at most 4096)" };
        var kv = new Option<string>("--kv") { Description = "KV cache precision: f16 or f32", DefaultValueFactory = _ => "f16" };
        kv.AcceptOnlyFromAmong("f16", "f32");
        var prompt = new Argument<string?>("prompt") { Description = "Prompt text", Arity = ArgumentArity.ZeroOrOne };

        var command = new Command("generate", "Generate text from a prompt");
        foreach (var o in new Option[] { model, mode, block, verify, beta, maxTokens, temperature, topP, topK, seed, json, promptTokens, chat, stop, context, kv })
            command.Options.Add(o);
        command.Arguments.Add(prompt);
        command.SetAction(parse => CommonOptions.Guard(() =>
        {
            var path = ModelLocator.Resolve(parse.GetValue(model));
            var ids = ParseIds(parse.GetValue(promptTokens));
            var text = parse.GetValue(prompt);
            if (ids is null && string.IsNullOrEmpty(text)) throw new ArgumentException("Give a prompt (text argument or --prompt-tokens).");

            using var device = GpuDevice.Open(CommonOptions.DeviceOptions(parse));
            var decodeMode = DecodeMode.Ar;
            int k = 0, maxRows = 0;
            var blockText = parse.GetValue(block);
            // Default auto: the fastest lossless plan on this device, never slower than AR by more than its probes.
            bool auto = blockText is null or "auto";
            // The mode and block size depend on the model's tidar keys: decided from its header, before any weights load.
            using var loaded = LoadedModel.Open(device, path, header =>
            {
                decodeMode = parse.GetValue(mode) switch
                {
                    "ar" => DecodeMode.Ar,
                    "tidar" => DecodeMode.Tidar,
                    _ => header.MaskTokenId is null ? DecodeMode.Ar : DecodeMode.Tidar,
                };
                if (decodeMode == DecodeMode.Tidar && header.MaskTokenId is null)
                    throw new ArgumentException($"{path} has no mask token (tidar.mask_token_id), so it cannot draft: TiDAR needs a TiDAR-trained model. Use --mode ar.");
                k = auto ? 0
                    : int.TryParse(blockText, out var kk) ? kk : throw new ArgumentException($"--block must be a number or auto, got '{blockText}'.");
                if (!auto && decodeMode == DecodeMode.Tidar && k < 1) throw new ArgumentException($"--block must be >= 1, got {k}.");

                maxRows = Math.Max(128, decodeMode == DecodeMode.Tidar ? k * (k + 1) : 1);
                return new LoadOptions { MaxRows = maxRows };
            });
            var request = new TextRequest
            {
                Prompt = text ?? "",
                PromptTokens = ids,
                Chat = parse.GetValue(chat),
                Mode = decodeMode,
                Tidar = new TidarOptions { Block = auto ? 1 : k, Verify = parse.GetValue(verify) == "paper" ? VerifyMode.Paper : VerifyMode.Exact, Beta = parse.GetValue(beta) },
                MaxTokens = parse.GetValue(maxTokens),
                Sampling = new SamplingOptions { Temperature = parse.GetValue(temperature), TopP = parse.GetValue(topP), TopK = parse.GetValue(topK), Seed = parse.GetValue(seed) },
                StopStrings = parse.GetValue(stop) ?? [],
                ContextLength = parse.GetValue(context),
                HalfPrecisionCache = parse.GetValue(kv) != "f32",
            };
            var generator = new TextGenerator(loaded);
            // Bad options fail now, not after a profile was measured for them.
            generator.Validate(request);
            if (auto && decodeMode == DecodeMode.Tidar)
                request = request with { Tidar = request.Tidar with { AutoProfile = ProfileCache.Get(device, loaded, maxRows, Math.Min(256, generator.ContextLength(request))) } };
            bool asJson = parse.GetValue(json);
            var result = generator.Generate(request, asJson ? null : t => { Console.Write(t); Console.Out.Flush(); });
            if (asJson) Console.WriteLine(Json(result));
            else
            {
                Console.WriteLine();
                var s = result.Stats;
                Console.Error.WriteLine($"[{s.Mode}{(s.Mode == "tidar" ? $" {s.Plan}" : "")}: {s.GeneratedTokens} tokens, {s.Forwards} forwards, " +
                    $"{s.TokensPerForward:F2} tokens/forward, {s.TokensPerSecond:F1} tokens/s, prefill {s.PrefillMs:F0} ms, stop: {result.StopReason}]");
            }
            return 0;
        }));
        return command;
    }

    private static int[]? ParseIds(string? text)
    {
        if (text is null) return null;
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new ArgumentException("--prompt-tokens is empty.");
        return parts.Select(p => int.TryParse(p, out var id) ? id : throw new ArgumentException($"--prompt-tokens: '{p}' is not a token id.")).ToArray();
    }

    public static string Json(TextResult r)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            var s = r.Stats;
            w.WriteStartObject();
            w.WriteString("text", r.Text);
            w.WriteStartArray("tokens");
            foreach (var t in r.Tokens) w.WriteNumberValue(t);
            w.WriteEndArray();
            w.WriteNumber("prompt_tokens", r.PromptTokens);
            w.WriteString("stop_reason", r.StopReason.ToString());
            w.WriteStartObject("stats");
            w.WriteString("mode", s.Mode);
            w.WriteNumber("forwards", s.Forwards);
            w.WriteNumber("tokens_per_forward", Math.Round(s.TokensPerForward, 4));
            w.WriteNumber("tokens_per_second", Math.Round(s.TokensPerSecond, 3));
            w.WriteNumber("prefill_ms", Math.Round(s.PrefillMs, 3));
            w.WriteNumber("decode_ms", Math.Round(s.DecodeMs, 3));
            if (s.Mode == "tidar")
            {
                w.WriteNumber("block", s.Block);
                w.WriteString("plan", s.Plan);
                w.WriteNumber("rows_per_forward", s.RowsPerForward);
                w.WriteStartArray("accepted_per_position");
                foreach (var a in s.AcceptedPerPosition) w.WriteNumberValue(a);
                w.WriteEndArray();
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
