using System.Globalization;
using System.Text.Json;
using TiDAR.Engine.Generation;
using TiDAR.Engine.Model;
using TiDAR.Engine.Vulkan;
using TiDAR.Trainer.Training;

namespace TiDAR.Trainer.Commands;

/// <summary>
/// Tokens per forward of exact greedy TiDAR on held-out prompts, through the engine (GGUF, Vulkan):
/// prompt i = the first --prompt-tokens tokens of held-out document i (documents evenly spaced over
/// valid.txt, at least --min-doc-tokens long); each prompt decodes --new tokens (EOS does not stop).
/// Every TiDAR output is checked token-for-token against plain AR greedy decoding (exactness).
/// </summary>
public static class MeasureCommand
{
    public static int Run(Args a)
    {
        string modelPath = a.Req("model");
        string corpus = a.Str("corpus", "data/corpus")!;
        int prompts = a.Int("prompts", 20), promptTokens = a.Int("prompt-tokens", 32), newTokens = a.Int("new", 128);
        var ks = (a.Str("k") ?? "4,8").Split(',').Select(int.Parse).ToArray();
        bool checkAr = !a.Flag("no-ar-check");
        int show = a.Int("show", 3);
        string? jsonOut = a.Str("json");
        a.RejectUnknown();

        using var device = GpuDevice.Open(new GpuDeviceOptions { Validation = false });
        int maxRows = Math.Max(128, ks.Max() * (ks.Max() + 1));
        using var loaded = LoadedModel.Open(device, modelPath, new LoadOptions { MaxRows = maxRows });
        var tok = loaded.Tokenizer;
        var docs = TokenCorpus.ReadDocuments(Path.Combine(corpus, "valid.txt")).ToList();
        var candidates = docs.Select(d => tok.Encode(d)).Where(ids => ids.Length >= promptTokens + 16).ToList();
        if (candidates.Count < prompts) throw new ArgumentException($"only {candidates.Count} held-out documents are long enough");
        var promptIds = Enumerable.Range(0, prompts).Select(i => candidates[(int)((long)i * candidates.Count / prompts)][..promptTokens]).ToList();
        Console.WriteLine($"{modelPath}: {prompts} held-out prompts x {promptTokens} tokens, {newTokens} new tokens each, exact greedy, device {device.Info.Name}");

        var options = new GenerationOptions { MaxTokens = newTokens, Sampling = new SamplingOptions { Temperature = 0 } };
        int capacity = promptTokens + newTokens + maxRows + 8;
        List<IReadOnlyList<int>>? arOutputs = null;
        if (checkAr)
        {
            using var cache = loaded.Model.CreateCache(capacity);
            var ar = new ArDecoder(loaded.Model, cache);
            arOutputs = promptIds.Select(p => ar.Generate(p, options).Tokens).ToList();
        }
        var summary = new Dictionary<string, object>();
        foreach (int k in ks)
        {
            using var cache = loaded.Model.CreateCache(capacity);
            var dec = new TidarDecoder(loaded.Model, cache);
            long generated = 0, forwards = 0; int mismatches = 0;
            var perPrompt = new List<double>();
            var hist = new long[k];
            for (int i = 0; i < prompts; i++)
            {
                var r = dec.Generate(promptIds[i], options, new TidarOptions { Block = k, Verify = VerifyMode.Exact });
                generated += r.Stats.GeneratedTokens;
                forwards += r.Stats.Forwards;
                perPrompt.Add(r.Stats.TokensPerForward);
                for (int j = 0; j < Math.Min(k, r.Stats.AcceptedPerPosition.Count); j++) hist[j] += r.Stats.AcceptedPerPosition[j];
                if (arOutputs is not null && !arOutputs[i].SequenceEqual(r.Tokens)) mismatches++;
                if (k == ks[0] && i < show)
                    Console.WriteLine($"--- prompt {i}: {tok.Decode(promptIds[i])}\n+++ {tok.Decode(r.Tokens.ToArray())}\n");
            }
            double tpf = (double)generated / forwards;
            string exact = arOutputs is null ? "" : $"; outputs identical to AR greedy: {prompts - mismatches}/{prompts}";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"k={k}: {generated} tokens in {forwards} forwards = {tpf:F3} tokens/forward (mean of per-prompt {perPrompt.Average():F3}, min {perPrompt.Min():F2}, max {perPrompt.Max():F2}); accepted-per-step histogram [{string.Join(",", hist)}]{exact}"));
            summary[$"k{k}"] = new { tokens = generated, forwards, tokens_per_forward = Math.Round(tpf, 4), mean_per_prompt = Math.Round(perPrompt.Average(), 4), identical_to_ar = arOutputs is null ? -1 : prompts - mismatches };
        }
        if (jsonOut is not null) File.WriteAllText(jsonOut, JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }
}
