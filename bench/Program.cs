using BenchmarkDotNet.Running;
using TiDAR.Bench;

// Entry point: BenchmarkSwitcher so `--filter`, `--list flat` and the other BDN options work, e.g.
//   dotnet run -c Release --project bench -- --filter '*'
//   dotnet run -c Release --project bench -- --filter '*MatVec*'
// Results (GitHub markdown and CSV) go to bench/results/results/ (see BenchConfig).
try
{
    BenchmarkSwitcher.FromAssembly(typeof(BenchConfig).Assembly).Run(args, BenchConfig.Create());
}
finally
{
    // The benchmarks run in this process (in-process toolchain) and share one device; close it last.
    SharedModels.Close();
    SharedDevice.Close();
}
