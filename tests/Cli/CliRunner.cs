using System.Diagnostics;

namespace TiDAR.Tests.Cli;

/// <summary>Runs the built `tidar` command line as a separate process, as a user would.</summary>
public static class CliRunner
{
    public sealed record Run(int ExitCode, string Stdout, string Stderr);

    public static Run Tidar(params string[] args) => TidarWithEnv(new(), args);

    public static Run TidarWithEnv(Dictionary<string, string> env, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (k, v) in env) psi.Environment[k] = v;
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "tidar.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"tidar {string.Join(' ', args)} did not finish in 3 minutes");
        }
        return new Run(p.ExitCode, stdout.Result, stderr.Result);
    }
}
