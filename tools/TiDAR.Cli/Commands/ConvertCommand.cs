using System.CommandLine;
using Spectre.Console;
using TiDAR.Engine.Gguf;
using TiDAR.WeightsConvert;

namespace TiDAR.Cli;

/// <summary>`tidar convert HF_DIR OUT.gguf`: a Hugging Face safetensors checkpoint to a GGUF file llama.cpp can run.</summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var hfDir = new Argument<string>("hf-dir")
        {
            Description = "Hugging Face checkpoint folder: config.json, model.safetensors (or shards + model.safetensors.index.json), tokenizer.json",
        };
        var output = new Argument<string>("out") { Description = "The GGUF file to write" };
        var type = new Option<string>("--type")
        {
            Description = "Encoding of the 2-D weight matrices (norms and biases stay f32)",
            DefaultValueFactory = _ => "f16",
        };
        type.AcceptOnlyFromAmong([.. OutputTypes.Names]);
        var maskToken = new Option<int?>("--mask-token") { Description = "TiDAR mask token id (tidar.mask_token_id); overrides config.json" };
        var blockSize = new Option<int?>("--block-size") { Description = "TiDAR block size (tidar.block_size); overrides config.json" };

        var command = new Command("convert", "Convert a Hugging Face checkpoint (Llama, Qwen2, Qwen3; safetensors) to GGUF");
        command.Arguments.Add(hfDir);
        command.Arguments.Add(output);
        command.Options.Add(type);
        command.Options.Add(maskToken);
        command.Options.Add(blockSize);
        command.SetAction(parse => Run(
            parse.GetValue(hfDir)!,
            parse.GetValue(output)!,
            new ConvertOptions
            {
                OutputType = OutputTypes.Parse(parse.GetValue(type) ?? "f16"),
                MaskTokenId = parse.GetValue(maskToken),
                BlockSize = parse.GetValue(blockSize),
            }));
        return command;
    }

    private static int Run(string hfDir, string outPath, ConvertOptions options)
    {
        var warnings = new List<string>();
        try
        {
            ConvertResult? result = null;
            AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("reading checkpoint", maxValue: 1);
                    var progress = new InlineProgress<ConvertProgress>(p =>
                    {
                        if (p.Message is not null) { warnings.Add(p.Message); return; }
                        if (p.BytesTotal > 0 && task.MaxValue != p.BytesTotal) task.MaxValue = p.BytesTotal;
                        task.Value = p.BytesDone;
                        task.Description = p.TensorIndex < p.TensorCount
                            ? Markup.Escape($"[{p.TensorIndex + 1}/{p.TensorCount}] {p.TensorName}")
                            : Markup.Escape($"{p.TensorCount} tensors written");
                    });
                    result = GgufConverter.Convert(hfDir, outPath, options, progress);
                    task.Value = task.MaxValue;
                });
            foreach (var w in warnings) Console.Error.WriteLine($"warning: {w}");
            var r = result!;
            var c = r.Config;
            Console.WriteLine($"Wrote {r.OutputPath}: {ArchName(c.Architecture)} {c.Layers} layers, dim {c.Dim}, vocab {c.VocabSize}, {options.OutputType.Name()}; "
                + $"{r.TensorCount} tensors, {r.TensorBytes:N0} bytes of weights, {r.FileBytes:N0} bytes in all, in {r.Elapsed.TotalSeconds:0.0} s.");
            return 0;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or ArgumentException
                                      or InvalidOperationException or UnauthorizedAccessException or GgufFormatException or KeyNotFoundException)
        {
            foreach (var w in warnings) Console.Error.WriteLine($"warning: {w}");
            string message = e is ArgumentException { ParamName: { } p } ? e.Message.Replace($" (Parameter '{p}')", "") : e.Message;
            Console.Error.WriteLine($"error: {OneLine(message)}");
            return 1;
        }
    }

    private static string ArchName(TiDAR.Engine.Model.Architecture a) => TiDAR.Engine.Model.ModelConfig.GgufName(a);

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");

    /// <summary>Reports on the calling thread (System.Progress would post to a thread-pool context).</summary>
    private sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
