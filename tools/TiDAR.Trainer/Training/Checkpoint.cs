using System.Text.Json;
using TorchSharp;
using TiDAR.Trainer.Model;

namespace TiDAR.Trainer.Training;

/// <summary>
/// A checkpoint: model weights (TorchSharp format), optimizer state and progress. Written to a temp
/// folder and renamed so an interrupted save never leaves a half checkpoint as "latest".
/// </summary>
public sealed record CheckpointState(int Step, long Tokens, double ElapsedSeconds);

public static class Checkpoint
{
    public static void Save(string runDir, TidarTransformer model, TorchSharp.Modules.OptimizerHelper opt, CheckpointState state)
    {
        string dir = Path.Combine(runDir, "checkpoint");
        string tmp = dir + ".tmp";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
        Directory.CreateDirectory(tmp);
        model.save(Path.Combine(tmp, "model.bin"));
        opt.save_state_dict(Path.Combine(tmp, "optimizer.bin"));
        File.WriteAllText(Path.Combine(tmp, "state.json"), JsonSerializer.Serialize(state));
        string old = dir + ".old";
        if (Directory.Exists(old)) Directory.Delete(old, true);
        if (Directory.Exists(dir)) Directory.Move(dir, old);
        Directory.Move(tmp, dir);
        if (Directory.Exists(old)) Directory.Delete(old, true);
    }

    public static CheckpointState? Load(string runDir, TidarTransformer model, TorchSharp.Modules.OptimizerHelper? opt)
    {
        string dir = Path.Combine(runDir, "checkpoint");
        if (!File.Exists(Path.Combine(dir, "state.json"))) return null;
        model.load(Path.Combine(dir, "model.bin"));
        opt?.load_state_dict(Path.Combine(dir, "optimizer.bin"));
        return JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(Path.Combine(dir, "state.json")));
    }

    public static void LoadWeights(string modelBin, TidarTransformer model) => model.load(modelBin);
}
