using TiDAR.Trainer.Export;
using TiDAR.Trainer.Model;
using TiDAR.Trainer.Training;

namespace TiDAR.Trainer.Commands;

public static class ExportCommand
{
    public static int Run(Args a)
    {
        string run = a.Req("run");
        string outDir = a.Req("out");
        string checkpoint = a.Str("checkpoint", Path.Combine(run, "checkpoint", "model.bin"))!;
        int maxPositions = a.Int("max-positions", 512);
        a.RejectUnknown();
        var o = TrainOptions.FromJson(File.ReadAllText(Path.Combine(run, "run.json")));
        TorchSharp.torch.set_num_threads(o.Threads);
        var model = new TidarTransformer(o.Model);
        Checkpoint.LoadWeights(checkpoint, model);
        HfExporter.Export(model, run, outDir, maxPositions);
        Console.WriteLine($"exported {checkpoint} -> {outDir} (model.safetensors, config.json, tokenizer.json, tokenizer_config.json)");
        return 0;
    }
}
