using TiDAR.Trainer;
using TiDAR.Trainer.Commands;

const string usage = """
tidar-train: trains the TiDAR default model (see models/README.md and scripts/train-default-model.sh)

  tokenizer --corpus DIR --out DIR [--vocab 4096]        train the byte-level BPE (tokenizer.json)
  train --run DIR --tokenizer DIR --corpus DIR [options]   train (resumes with --resume)
  export --run DIR --out DIR [--checkpoint FILE]           Hugging Face layout (safetensors, config.json, tokenizer)
  convert --hf DIR --out FILE.gguf [--type f16|q8_0]       GGUF through weights-convert
  plot --run DIR                                           loss curves (metrics.csv -> losses.png)
  distill --from DIR --run DIR [--minutes 15]              self-distil the drafts on the model's greedy continuations
  eval --run DIR [--windows N]                             held-out AR / diffusion cross-entropy and perplexity
  simulate --run DIR [--k 4,8] [--prompts 20]              tokens per forward on the TorchSharp checkpoint (quick)
  measure --model FILE.gguf --corpus DIR [--k 4,8] [--prompts 20] [--new 128]
                                                           tokens per forward of exact greedy TiDAR in the engine
""";

if (args.Length == 0 || args[0] is "-h" or "--help" or "help") { Console.WriteLine(usage); return 0; }
var a = new Args(args.Skip(1));
try
{
    return args[0] switch
    {
        "tokenizer" => TokenizerCommand.Run(a),
        "train" => TrainCommand.Run(a),
        "export" => ExportCommand.Run(a),
        "convert" => ConvertCommand.Run(a),
        "plot" => PlotCommand.Run(a),
        "measure" => MeasureCommand.Run(a),
        "simulate" => SimulateCommand.Run(a),
        "distill" => DistillCommand.Run(a),
        "eval" => EvalCommand.Run(a),
        _ => throw new ArgumentException($"unknown command '{args[0]}'\n{usage}"),
    };
}
catch (ArgumentException e)
{
    Console.Error.WriteLine("error: " + e.Message);
    return 2;
}
