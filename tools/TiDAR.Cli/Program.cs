using System.CommandLine;
using TiDAR.Cli;

// The `tidar` command line. Each command lives in its own file under Commands/.
var root = new RootCommand("TiDAR.Vulkan: TiDAR-style language model inference on any Vulkan GPU.");
root.Options.Add(CommonOptions.Device);
root.Options.Add(CommonOptions.Validation);
root.Subcommands.Add(DevicesCommand.Create());
root.Subcommands.Add(CheckCommand.Create());
return root.Parse(args).Invoke();
