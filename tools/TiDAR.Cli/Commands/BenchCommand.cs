using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using TiDAR.Cli.Bench;
using TiDAR.Engine.Generation;
using TiDAR.Engine.Model;
using TiDAR.Engine.Vulkan;

namespace TiDAR.Cli;

/// <summary>
/// `tidar bench`: (a) the free-slot profile, forward latency against rows at a few contexts; (b) AR
/// against TiDAR exact greedy at fixed k and --block auto, tokens/s and tokens per forward; and what
/// the profile predicts for TiDAR. Tables on screen; CSV, markdown and PNG plots under --out.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "GGUF model file (default: TIDAR_MODEL, else models/tidar-default.gguf)" };
        var random = new Option<string?>("--random") { Description = $"Measure a random-weight model of a named shape instead: {string.Join(", ", RandomModels.Names)}" };
        random.AcceptOnlyFromAmong(RandomModels.Names.ToArray());
        var output = new Option<string>("--out") { Description = "Directory for the CSV, markdown and PNG results", DefaultValueFactory = _ => "./tidar-bench" };
        var rows = new Option<string>("--rows") { Description = "Row counts of the free-slot profile", DefaultValueFactory = _ => "1,2,4,8,16,32,64,128,256,512" };
        var contexts = new Option<string>("--contexts") { Description = "Cached positions before the measured rows", DefaultValueFactory = _ => "128,1024" };
        var repeats = new Option<int>("--repeats") { Description = "Timed forwards per point (median), after one warm-up", DefaultValueFactory = _ => 3 };
        var maxForwardMs = new Option<double>("--max-forward-ms") { Description = "Stop growing the row count once a forward takes longer than this", DefaultValueFactory = _ => 6000 };
        var tokens = new Option<int>("--tokens") { Description = "Tokens generated per prompt in the AR/TiDAR comparison (0 = skip it)", DefaultValueFactory = _ => 64 };
        var prompts = new Option<int>("--prompts") { Description = "Prompts in the AR/TiDAR comparison", DefaultValueFactory = _ => 3 };
        var promptLength = new Option<int>("--prompt-length") { Description = "Tokens per prompt (random models; a model's English prompts are cut to it, not padded)", DefaultValueFactory = _ => 120 };
        var blocks = new Option<string>("--blocks") { Description = "TiDAR block sizes k to run (each step k(k+1) rows); auto always runs too", DefaultValueFactory = _ => "2,4,8" };
        var kv = new Option<string>("--kv") { Description = "KV cache precision: f16 or f32", DefaultValueFactory = _ => "f16" };
        kv.AcceptOnlyFromAmong("f16", "f32");
        var noPlots = new Option<bool>("--no-plots") { Description = "Write no PNG files" };

        var command = new Command("bench", "Measure the free-slot profile (latency vs rows) and AR vs TiDAR tokens/s on this device");
        foreach (var o in new Option[] { model, random, output, rows, contexts, repeats, maxForwardMs, tokens, prompts, promptLength, blocks, kv, noPlots })
            command.Options.Add(o);
        command.SetAction(parse => CommonOptions.Guard(() =>
        {
            if (parse.GetValue(model) is not null && parse.GetValue(random) is not null) throw new ArgumentException("Give --model or --random, not both.");
            var rowList = ParseList(parse.GetValue(rows)!, "--rows", 1).Distinct().Order().ToList();
            var contextList = ParseList(parse.GetValue(contexts)!, "--contexts", 0).Distinct().Order().ToList();
            var ks = ParseList(parse.GetValue(blocks)!, "--blocks", 1).Distinct().Order().ToList();
            int nTokens = parse.GetValue(tokens), nPrompts = parse.GetValue(prompts), pLength = parse.GetValue(promptLength), nRepeats = parse.GetValue(repeats);
            if (nTokens < 0 || nPrompts < 1 || pLength < 1 || nRepeats < 1) throw new ArgumentException("--tokens must be >= 0; --prompts, --prompt-length and --repeats >= 1.");
            var outDir = Path.GetFullPath(parse.GetValue(output)!);
            Directory.CreateDirectory(outDir);
            bool halfCache = parse.GetValue(kv) != "f32";

            // Tables piped to a file or a log keep their columns instead of wrapping at 80.
            if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 160);
            var start = DateTime.UtcNow;
            string loadBefore = LoadAverage();
            using var device = GpuDevice.Open(CommonOptions.DeviceOptions(parse));
            var d = device.Info;
            int maxRows = Math.Max(2, Math.Max(rowList[^1], ks.Select(k => k * (k + 1)).DefaultIfEmpty(1).Max()));
            AnsiConsole.MarkupLine(Markup.Escape($"Loading the model for {maxRows} rows per forward ..."));
            using var target = BenchTarget.Open(device, parse.GetValue(model), parse.GetValue(random), maxRows);
            string threads = Environment.GetEnvironmentVariable("LP_NUM_THREADS") is { Length: > 0 } lp ? $", LP_NUM_THREADS={lp}" : "";
            var info = new BenchInfo(
                Device: $"{d.Name} ({d.TypeText}, Vulkan {d.ApiVersionText})",
                Driver: $"{d.DriverName} {d.DriverInfo}".Trim(),
                Model: target.Description,
                Host: $"{Environment.ProcessorCount} logical CPUs, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}{threads}",
                StartUtc: start, LoadBefore: loadBefore, LoadAfter: "",
                Command: "tidar bench " + string.Join(' ', Environment.GetCommandLineArgs().Skip(2)));
            BenchReport.PrintHeader(info);
            AnsiConsole.MarkupLine(Markup.Escape($"  loaded in {target.LoadSeconds:F1} s"));

            // (a) the free-slot profile.
            var profiles = new List<ContextProfile>();
            foreach (int ctx in contextList)
            {
                AnsiConsole.MarkupLine(Markup.Escape($"Free-slot profile at context {ctx} ..."));
                profiles.Add(FreeSlotProfiler.Measure(target.Model, ctx, rowList, nRepeats, parse.GetValue(maxForwardMs),
                    p => AnsiConsole.MarkupLine(Markup.Escape($"  {p.Rows,4} rows: {p.MedianMs,9:F2} ms (record {p.RecordMs:F2} ms, submit+wait {p.SubmitMs:F2} ms)"))));
            }
            BenchReport.PrintProfiles(profiles);

            // (b) AR against TiDAR, auto planning from the profile nearest the decode context.
            List<DecodeRow>? decode = null;
            var notes = new List<string>();
            var promptList = target.Prompts(nPrompts, pLength);
            int shortest = promptList.Min(p => p.Length), longest = promptList.Max(p => p.Length);
            string promptTokens = shortest == longest ? $"{shortest}" : $"{shortest}-{longest}";
            int decodeContext = longest + nTokens / 2;
            var nearest = profiles.OrderBy(p => Math.Abs(p.Context - decodeContext)).First();
            if (nTokens > 0)
            {
                var autoProfile = nearest.Points.Count >= 2 ? nearest.ToLatencyProfile() : null;
                if (autoProfile is null) notes.Add("auto skipped: the profile nearest the decode context has fewer than 2 points.");
                AnsiConsole.MarkupLine(Markup.Escape($"AR vs TiDAR: {nPrompts} prompts of {promptTokens} tokens, {nTokens} tokens each (auto plans with the context-{nearest.Context} profile) ..."));
                decode = DecodeComparison.Run(target.Model, promptList, nTokens, ks, autoProfile, halfCache,
                    s => AnsiConsole.MarkupLine(Markup.Escape("  " + s)));
                BenchReport.PrintDecode(decode, promptTokens, nTokens);
            }

            // What the profile predicts, at the measured acceptance and at trained-model-like ones.
            var measured = decode?.Where(r => r.Mode.StartsWith("k=")).ToList() ?? [];
            long compared = measured.Sum(r => r.DraftsCompared), accepted = measured.Sum(r => r.DraftsAccepted);
            double? alphaMeasured = compared > 0 ? accepted / (double)compared : null;
            var alphas = new List<double>();
            if (alphaMeasured is double am) alphas.Add(Math.Round(am, 2));
            alphas.AddRange([0.5, 0.7, 0.8, 0.9]);
            int predictRows = Math.Min(target.Model.Options.MaxRows, target.Model.Options.MaxOutputRows);
            var predictions = profiles.Where(p => p.Points.Count >= 2)
                .SelectMany(p => alphas.Distinct().Select(a => BenchReport.Predict(p, a, ks, predictRows))).ToList();
            if (predictions.Count > 0) BenchReport.PrintPredictions(predictions, ks);

            if (alphaMeasured is double alpha)
            {
                string verdict = alpha < 0.1 ? "near zero" : alpha < 0.4 ? "low" : "substantial";
                notes.Add($"Measured draft acceptance (fixed k, pooled): {alpha:P1} ({verdict})." + (target.IsRandom
                    ? " The weights are random: nothing was trained to draft, so TiDAR pays k(k+1) rows per forward for about one token, and auto should detect this and fall back to AR."
                    : ""));
            }
            if (decode?.FirstOrDefault(r => r.Mode == "auto") is { } auto) notes.Add($"auto's final plan: {auto.Plan}; {auto.TokensPerSecond:F2} tokens/s against AR's {decode[0].TokensPerSecond:F2}.");
            if (decode?.Any(r => r.Mode != "ar" && !r.IdenticalToAr) == true) notes.Add("TiDAR output differed from AR on some prompt: exact greedy should be token-identical; this is a bug to report.");
            foreach (var p in profiles) if (p.StopNote is not null) notes.Add($"context {p.Context}: {p.StopNote}.");
            info = info with { LoadAfter = LoadAverage() };
            if (double.TryParse(info.LoadBefore.Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var load1) && load1 > 0.5)
                notes.Add($"The 1-minute load average was {load1:F2} before the run: other processes were busy, and on a CPU Vulkan driver they slow every timing.");
            foreach (var n in notes) AnsiConsole.MarkupLine(Markup.Escape("note: " + n));

            BenchReport.WriteProfileCsv(Path.Combine(outDir, "free-slot-profile.csv"), info, profiles);
            if (decode is not null) BenchReport.WriteDecodeCsv(Path.Combine(outDir, "decode.csv"), info, decode);
            if (predictions.Count > 0) BenchReport.WritePredictionsCsv(Path.Combine(outDir, "predicted.csv"), predictions, ks);
            BenchReport.WriteSummary(Path.Combine(outDir, "summary.md"), info, profiles, decode, predictions, ks, notes, promptTokens, nTokens);
#if SCOTTPLOT
            if (!parse.GetValue(noPlots))
            {
                string subtitle = $"{d.Name}, {d.DriverName}";
                BenchPlots.FreeSlotProfile(Path.Combine(outDir, "free-slot-profile.png"), profiles, $"Free-slot profile: {target.Name}", subtitle);
                if (decode is not null)
                {
                    var pred = predictions.FirstOrDefault(p => p.Context == nearest.Context && alphaMeasured is double a && p.Alpha == Math.Round(a, 2));
                    BenchPlots.TokensPerSecond(Path.Combine(outDir, "tokens-per-second.png"), decode, pred, $"AR vs TiDAR exact greedy: {target.Name}", subtitle);
                }
            }
#else
            if (!parse.GetValue(noPlots))
                AnsiConsole.MarkupLine("note: this build has no plotting (the CLI project needs the ScottPlot package and the SCOTTPLOT define); no PNG files written.");
#endif
            AnsiConsole.MarkupLine(Markup.Escape($"Results written to {outDir} (took {(DateTime.UtcNow - start).TotalSeconds:F0} s)"));
            return 0;
        }));
        return command;
    }

    private static List<int> ParseList(string text, string option, int min)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new ArgumentException($"{option} is empty.");
        return parts.Select(p => int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min ? v
            : throw new ArgumentException($"{option}: '{p}' is not a whole number >= {min}.")).ToList();
    }

    /// <summary>/proc/loadavg's three averages, or "n/a" off Linux.</summary>
    private static string LoadAverage()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return "n/a"; }
    }
}
