using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Exporters.Csv;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

namespace TiDAR.Bench;

/// <summary>
/// The configuration every suite shares: where results go, which files are written, and the
/// in-process jobs (BDN must not rebuild the project in a child process: the benchmarks open one
/// Vulkan device for the whole run).
/// </summary>
public static class BenchConfig
{
    /// <summary>Category of benchmarks that run on the Vulkan device.</summary>
    public const string Gpu = "GPU";
    /// <summary>Category of the plain C# reference on the CPU.</summary>
    public const string Cpu = "CPU";

    /// <summary>Global config: artifacts under bench/results, GitHub markdown and CSV only.</summary>
    public static IConfig Create() =>
        ManualConfig.CreateEmpty()
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddLogger(ConsoleLogger.Default)
            .AddAnalyser(DefaultConfig.Instance.GetAnalysers().ToArray())
            .AddValidator(DefaultConfig.Instance.GetValidators().ToArray())
            .AddExporter(new GitHubTableExporter(), PlainCsv())
            .WithArtifactsPath(ResultsDirectory())
            .WithOptions(ConfigOptions.DisableLogFile);

    /// <summary>Ops of a few milliseconds (matvec): BDN picks the invocations per iteration.</summary>
    public static Job ShortOps(string id) => Job.Default
        .WithToolchain(InProcessEmitToolchain.Instance)
        .WithLaunchCount(1)
        .WithWarmupCount(3)
        .WithIterationCount(10)
        .WithIterationTime(TimeInterval.FromMilliseconds(250))
        .WithUnrollFactor(1)
        .WithId(id);

    /// <summary>Ops of about a second (matmul on lavapipe): one op per iteration, few iterations.</summary>
    public static Job LongOps(string id) => Job.Default
        .WithToolchain(InProcessEmitToolchain.Instance)
        .WithLaunchCount(1)
        .WithWarmupCount(1)
        .WithIterationCount(7)
        .WithInvocationCount(1)
        .WithUnrollFactor(1)
        .WithId(id);

    /// <summary>
    /// Ops of up to several seconds (a forward of many rows, a whole generation): one op per iteration,
    /// one warm-up and three measured iterations, to keep the run short.
    /// </summary>
    public static Job FewOps(string id) => Job.Default
        .WithToolchain(InProcessEmitToolchain.Instance)
        .WithLaunchCount(1)
        .WithWarmupCount(1)
        .WithIterationCount(3)
        .WithInvocationCount(1)
        .WithUnrollFactor(1)
        .WithId(id);

    /// <summary>CSV for tools: times in ms with the unit in the header, no digit grouping, so cells parse as numbers.</summary>
    private static CsvExporter PlainCsv()
    {
        var culture = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        culture.NumberFormat.NumberGroupSeparator = "";
        var style = SummaryStyle.Default.WithCultureInfo(culture).WithTimeUnit(TimeUnit.Millisecond);
        style = new SummaryStyle(style.CultureInfo, printUnitsInHeader: true, style.SizeUnit, style.TimeUnit, printUnitsInContent: false,
            style.PrintZeroValuesInContent, style.MaxParameterColumnWidth, style.RatioStyle, style.TextColumnJustification, style.NumericColumnJustification);
        return new CsvExporter(CsvSeparator.Comma, style);
    }

    /// <summary>bench/results, found from the build output (bench/bin/Release/net10.0/); falls back to ./bench-results.</summary>
    private static string ResultsDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "TiDAR.Bench.csproj")))
                return Path.Combine(dir.FullName, "results");
        return Path.Combine(Directory.GetCurrentDirectory(), "bench-results");
    }
}
