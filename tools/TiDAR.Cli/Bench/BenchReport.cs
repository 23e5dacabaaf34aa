using System.Globalization;
using System.Text;
using Spectre.Console;
using TiDAR.Engine.Generation;

namespace TiDAR.Cli.Bench;

/// <summary>What was measured where: printed with every table and written into every output file.</summary>
internal sealed record BenchInfo(string Device, string Driver, string Model, string Host, DateTime StartUtc, string LoadBefore, string LoadAfter, string Command);

/// <summary>Expected TiDAR tokens/s from a profile, for a per-draft acceptance rate alpha (AutoBlockPolicy's model).</summary>
internal sealed record Prediction(int Context, double Alpha, double ArTokensPerSecond, IReadOnlyDictionary<int, double> ByK, int BestK, int BestM, double BestTokensPerSecond);

/// <summary>Tables on screen, CSV and markdown files for `tidar bench`.</summary>
internal static class BenchReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static Prediction Predict(ContextProfile profile, double alpha, IReadOnlyList<int> ks, int maxRows)
    {
        var policy = new AutoBlockPolicy(profile.ToLatencyProfile(), maxRows);
        var byK = ks.ToDictionary(k => k, k => policy.Throughput(k, k, alpha));
        (int K, int M, double R) best = (0, 0, policy.Throughput(0, 0, alpha));
        for (int k = 1; k <= 16 && (k + 1) * k <= maxRows; k++)
            for (int m = 1; m <= k; m++)
            {
                double r = policy.Throughput(k, m, alpha);
                if (r > best.R * 1.0001) best = (k, m, r);
            }
        return new Prediction(profile.Context, alpha, policy.Throughput(0, 0, alpha), byK, best.K, best.M, best.R);
    }

    // ------------------------------------------------------------------ screen

    public static void PrintHeader(BenchInfo info)
    {
        AnsiConsole.MarkupLine($"[bold]tidar bench[/]  {Markup.Escape(info.StartUtc.ToString("u", Inv))}");
        AnsiConsole.MarkupLine($"  device: {Markup.Escape(info.Device)}");
        AnsiConsole.MarkupLine($"  driver: {Markup.Escape(info.Driver)}");
        AnsiConsole.MarkupLine($"  model:  {Markup.Escape(info.Model)}");
        AnsiConsole.MarkupLine($"  host:   {Markup.Escape(info.Host)}; load average before: {Markup.Escape(info.LoadBefore)}");
    }

    public static void PrintProfiles(IReadOnlyList<ContextProfile> profiles)
    {
        var table = new Table().Title("Free-slot profile: forward latency (ms, median) against rows").AddColumn("rows");
        foreach (var p in profiles) table.AddColumn(new TableColumn($"ctx {p.Context}").RightAligned()).AddColumn(new TableColumn($"x 1 row").RightAligned());
        var allRows = profiles.SelectMany(p => p.Points.Select(x => x.Rows)).Distinct().Order().ToList();
        foreach (int r in allRows)
        {
            var cells = new List<string> { r.ToString(Inv) };
            foreach (var p in profiles)
            {
                var pt = p.Points.FirstOrDefault(x => x.Rows == r);
                cells.Add(pt is null ? "-" : pt.MedianMs.ToString("F2", Inv));
                cells.Add(pt is null ? "-" : (pt.MedianMs / p.OneRowMs).ToString("F2", Inv));
            }
            table.AddRow(cells.Select(Markup.Escape).ToArray());
        }
        AnsiConsole.Write(table);
        foreach (var p in profiles)
        {
            AnsiConsole.MarkupLine(Markup.Escape($"  ctx {p.Context}: free rows (within 10% / 20% of 1 row's {p.OneRowMs:F2} ms): {p.FreeRows(0.10)} / {p.FreeRows(0.20)}; " +
                $"rows within 20% / 50% of the {p.Points.FirstOrDefault(x => x.Rows >= 2)?.Rows ?? 2}-row forward: {p.FreeRowsAfterTwo(0.20)} / {p.FreeRowsAfterTwo(0.50)}" +
                (p.StopNote is null ? "" : $"; {p.StopNote}")));
        }
    }

    public static void PrintDecode(IReadOnlyList<DecodeRow> rows, string promptLength, int tokens)
    {
        var table = new Table().Title($"AR vs TiDAR exact greedy ({rows[0].Prompts} prompts x {tokens} tokens, prompt {promptLength} tokens)")
            .AddColumns("mode", "tokens/s", "x AR", "tokens/forward", "rows/step", "draft acceptance", "same tokens as AR", "plan");
        double ar = rows[0].TokensPerSecond;
        foreach (var r in rows)
            table.AddRow(Markup.Escape(r.Mode), r.TokensPerSecond.ToString("F2", Inv), (ar > 0 ? r.TokensPerSecond / ar : 0).ToString("F2", Inv),
                r.TokensPerForward.ToString("F2", Inv), r.RowsPerForward.ToString("F1", Inv),
                double.IsNaN(r.Acceptance) ? "-" : r.Acceptance.ToString("P1", Inv),
                r.Mode == "ar" ? "-" : r.IdenticalToAr ? "yes" : "[red]NO[/]", Markup.Escape(r.Plan));
        AnsiConsole.Write(table);
    }

    public static void PrintPredictions(IReadOnlyList<Prediction> predictions, IReadOnlyList<int> ks)
    {
        var table = new Table().Title("Predicted tokens/s from the profile (AutoBlockPolicy's model; alpha = per-draft acceptance)")
            .AddColumns("ctx", "alpha", "AR");
        foreach (int k in ks) table.AddColumn($"k={k}");
        table.AddColumn("best plan");
        foreach (var p in predictions)
        {
            var cells = new List<string> { p.Context.ToString(Inv), p.Alpha.ToString("F2", Inv), p.ArTokensPerSecond.ToString("F2", Inv) };
            cells.AddRange(ks.Select(k => p.ByK[k].ToString("F2", Inv)));
            cells.Add(p.BestK == 0 ? "AR" : $"k={p.BestK}, {p.BestM} blocks: {p.BestTokensPerSecond:F2} ({p.BestTokensPerSecond / p.ArTokensPerSecond:F2}x)");
            table.AddRow(cells.Select(Markup.Escape).ToArray());
        }
        AnsiConsole.Write(table);
    }

    // ------------------------------------------------------------------ files

    private static string Csv(string s) => s.Contains(',') || s.Contains('"') ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
    private static string F(double v, int digits = 3) => double.IsNaN(v) ? "" : v.ToString("F" + digits, Inv);

    public static void WriteProfileCsv(string path, BenchInfo info, IReadOnlyList<ContextProfile> profiles)
    {
        var sb = new StringBuilder("model,device,context,rows,median_ms,min_ms,max_ms,x_one_row,ms_per_row,record_ms,submit_ms,dispatches\n");
        foreach (var p in profiles)
            foreach (var x in p.Points)
                sb.Append(Inv, $"{Csv(info.Model)},{Csv(info.Device)},{x.Context},{x.Rows},{F(x.MedianMs)},{F(x.MinMs)},{F(x.MaxMs)},{F(x.MedianMs / p.OneRowMs)},{F(x.MsPerRow, 4)},{F(x.RecordMs)},{F(x.SubmitMs)},{x.Dispatches}\n");
        File.WriteAllText(path, sb.ToString());
    }

    public static void WriteDecodeCsv(string path, BenchInfo info, IReadOnlyList<DecodeRow> rows)
    {
        var sb = new StringBuilder("model,device,mode,k,prompts,generated_tokens,forwards,decode_ms,tokens_per_s,x_ar,tokens_per_forward,rows_per_step,draft_acceptance,identical_to_ar,plan\n");
        double ar = rows[0].TokensPerSecond;
        foreach (var r in rows)
            sb.Append(Inv, $"{Csv(info.Model)},{Csv(info.Device)},{r.Mode},{r.K},{r.Prompts},{r.Tokens},{r.Forwards},{F(r.DecodeMs, 1)},{F(r.TokensPerSecond)},{F(ar > 0 ? r.TokensPerSecond / ar : 0)},{F(r.TokensPerForward)},{F(r.RowsPerForward, 2)},{F(r.Acceptance)},{(r.Mode == "ar" ? "" : r.IdenticalToAr ? "yes" : "no")},{Csv(r.Plan)}\n");
        File.WriteAllText(path, sb.ToString());
    }

    public static void WritePredictionsCsv(string path, IReadOnlyList<Prediction> predictions, IReadOnlyList<int> ks)
    {
        var sb = new StringBuilder("context,alpha,ar_tokens_per_s," + string.Join(",", ks.Select(k => $"k{k}_tokens_per_s")) + ",best_k,best_blocks,best_tokens_per_s\n");
        foreach (var p in predictions)
            sb.Append(Inv, $"{p.Context},{F(p.Alpha, 2)},{F(p.ArTokensPerSecond)},{string.Join(",", ks.Select(k => F(p.ByK[k])))},{p.BestK},{p.BestM},{F(p.BestTokensPerSecond)}\n");
        File.WriteAllText(path, sb.ToString());
    }

    public static void WriteSummary(string path, BenchInfo info, IReadOnlyList<ContextProfile> profiles, IReadOnlyList<DecodeRow>? decode,
        IReadOnlyList<Prediction> predictions, IReadOnlyList<int> ks, IReadOnlyList<string> notes, string promptLength, int tokens)
    {
        var sb = new StringBuilder();
        sb.Append($"# tidar bench: {info.Model}\n\n");
        sb.Append($"- command: `{info.Command}`\n- date: {info.StartUtc.ToString("u", Inv)}\n- device: {info.Device}\n- driver: {info.Driver}\n- model: {info.Model}\n");
        sb.Append($"- host: {info.Host}; load average before: {info.LoadBefore}, after: {info.LoadAfter}\n\n");

        sb.Append("## Free-slot profile\n\nWall time of one forward (median), every row an output row with device argmax, after `ctx` cached positions.\n\n");
        sb.Append("| rows |" + string.Concat(profiles.Select(p => $" ctx {p.Context} ms | x 1 row |")) + "\n|---:|" + string.Concat(profiles.Select(_ => "---:|---:|")) + "\n");
        foreach (int r in profiles.SelectMany(p => p.Points.Select(x => x.Rows)).Distinct().Order())
        {
            sb.Append($"| {r} |");
            foreach (var p in profiles)
            {
                var x = p.Points.FirstOrDefault(q => q.Rows == r);
                sb.Append(x is null ? " - | - |" : $" {F(x.MedianMs, 2)} | {F(x.MedianMs / p.OneRowMs, 2)} |");
            }
            sb.Append('\n');
        }
        sb.Append('\n');
        foreach (var p in profiles)
            sb.Append($"- ctx {p.Context}: free rows (latency within 10% / 20% of one row): **{p.FreeRows(0.10)} / {p.FreeRows(0.20)}**; " +
                      $"rows within 20% / 50% of the {p.Points.FirstOrDefault(x => x.Rows >= 2)?.Rows ?? 2}-row forward: {p.FreeRowsAfterTwo(0.20)} / {p.FreeRowsAfterTwo(0.50)}{(p.StopNote is null ? "" : $"; {p.StopNote}")}\n");

        if (decode is not null)
        {
            double ar = decode[0].TokensPerSecond;
            sb.Append($"\n## AR vs TiDAR (exact greedy)\n\n{decode[0].Prompts} prompts of {promptLength} tokens, {tokens} tokens each; tokens/s of the decode phase (after prefill).\n\n");
            sb.Append("| mode | tokens/s | x AR | tokens/forward | rows/step | draft acceptance | same tokens as AR | plan |\n|---|---:|---:|---:|---:|---:|---|---|\n");
            foreach (var r in decode)
                sb.Append($"| {r.Mode} | {F(r.TokensPerSecond, 2)} | {F(ar > 0 ? r.TokensPerSecond / ar : 0, 2)} | {F(r.TokensPerForward, 2)} | {F(r.RowsPerForward, 1)} | " +
                          $"{(double.IsNaN(r.Acceptance) ? "-" : r.Acceptance.ToString("P1", Inv))} | {(r.Mode == "ar" ? "-" : r.IdenticalToAr ? "yes" : "**no**")} | {r.Plan} |\n");
        }

        sb.Append("\n## Predicted TiDAR tokens/s from the profile\n\nAutoBlockPolicy's model: each draft accepted with probability alpha given its predecessors were; a full step of k drafts runs k(k+1) rows.\n\n");
        sb.Append("| ctx | alpha | AR |" + string.Concat(ks.Select(k => $" k={k} |")) + " best plan |\n|---:|---:|---:|" + string.Concat(ks.Select(_ => "---:|")) + "---|\n");
        foreach (var p in predictions)
            sb.Append($"| {p.Context} | {F(p.Alpha, 2)} | {F(p.ArTokensPerSecond, 2)} |" + string.Concat(ks.Select(k => $" {F(p.ByK[k], 2)} |")) +
                      $" {(p.BestK == 0 ? "AR" : $"k={p.BestK}, {p.BestM} blocks: {F(p.BestTokensPerSecond, 2)} ({F(p.BestTokensPerSecond / p.ArTokensPerSecond, 2)}x)")} |\n");
        if (notes.Count > 0)
        {
            sb.Append("\n## Notes\n\n");
            foreach (var n in notes) sb.Append($"- {n}\n");
        }
        File.WriteAllText(path, sb.ToString());
    }
}
