using System.CommandLine;
using TiDAR.Engine.Generation;
using TiDAR.Engine.Model;
using TiDAR.Engine.Vulkan;

namespace TiDAR.Cli;

/// <summary>`tidar perplexity --model M FILE`: AR perplexity of a text file with a sliding window.</summary>
internal static class PerplexityCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "GGUF model file (default: TIDAR_MODEL, else models/tidar-default.gguf)" };
        var context = new Option<int?>("--context") { Description = "Window length in tokens (default: the model's, at most 4096)" };
        var stride = new Option<int?>("--stride") { Description = "Window advance (default: half the window)" };
        var file = new Argument<string>("file") { Description = "UTF-8 text file" };
        var command = new Command("perplexity", "AR perplexity of a text file (sliding window over the context)");
        command.Options.Add(model);
        command.Options.Add(context);
        command.Options.Add(stride);
        command.Arguments.Add(file);
        command.SetAction(parse => CommonOptions.Guard(() =>
        {
            var path = parse.GetValue(file)!;
            if (!File.Exists(path)) throw new FileNotFoundException($"Text file '{path}' does not exist.", path);
            using var device = GpuDevice.Open(CommonOptions.DeviceOptions(parse));
            using var loaded = LoadedModel.Open(device, ModelLocator.Resolve(parse.GetValue(model)));
            var tokens = loaded.Tokenizer.Encode(File.ReadAllText(path), addSpecialTokens: true);
            int window = parse.GetValue(context) ?? Math.Min(loaded.Config.ContextLength, TextGenerator.DefaultContextCap);
            using var cache = loaded.Model.CreateCache(window);
            var r = new PerplexityEvaluator(loaded.Model, cache).Evaluate(tokens, parse.GetValue(stride),
                new Progress<(int Done, int Total)>(p => Console.Error.Write($"\r{p.Done}/{p.Total} tokens")));
            Console.Error.WriteLine();
            Console.WriteLine($"perplexity: {r.Perplexity:F4} (mean NLL {r.MeanNll:F4} nats over {r.ScoredTokens} tokens, {r.Windows} windows of {window})");
            return 0;
        }));
        return command;
    }
}
