using System.CommandLine;
using TiDAR.Cli;
using TiDAR.Engine.Gguf;

// The `tidar` command line. Each command lives in its own file under Commands/.
var root = new RootCommand("TiDAR.Vulkan: TiDAR-style language model inference on any Vulkan GPU.");
root.Options.Add(CommonOptions.Device);
root.Options.Add(CommonOptions.Validation);
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(PerplexityCommand.Create());
root.Subcommands.Add(TokenizeCommand.Create(path =>
{
    using var file = GgufFile.Open(path);
    return file.Metadata;
}));
root.Subcommands.Add(ConvertCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(DevicesCommand.Create());
root.Subcommands.Add(CheckCommand.Create());
return root.Parse(args).Invoke();
