using TiDAR.Trainer.Model;
using TiDAR.Trainer.Training;

namespace TiDAR.Trainer.Tests;

public class TrainingTests
{
    private static TrainOptions Options(int steps) => new()
    {
        Model = TinyData.TinyConfig(),
        SeqLen = 16, Batch = 8, Steps = steps, BlockSizes = [4, 8], Lr = 3e-3, WarmupSteps = 5,
        EvalEvery = 1000, EvalWindows = 8, CheckpointEvery = 10, Threads = 2, Seed = 7,
    };

    [Fact]
    public void AFewStepsLowerBothLosses()
    {
        using var dir = new TempDir();
        var tokens = TinyData.Tokens();
        var trainer = new TidarTrainer(Options(40), dir.Path, tokens, tokens, _ => { });
        var before = trainer.Evaluate();
        trainer.Run(resume: false);
        var after = trainer.Evaluate();
        Assert.True(after.Ar < before.Ar - 0.5, $"AR loss {before.Ar:F3} -> {after.Ar:F3}");
        Assert.True(after.Diff4 < before.Diff4 - 0.3, $"diffusion k=4 loss {before.Diff4:F3} -> {after.Diff4:F3}");
        Assert.True(after.Diff8 < before.Diff8 - 0.3, $"diffusion k=8 loss {before.Diff8:F3} -> {after.Diff8:F3}");
        var csv = File.ReadAllLines(Path.Combine(dir.Path, "metrics.csv"));
        Assert.Equal(TidarTrainer.CsvHeader, csv[0]);
        Assert.Equal(41, csv.Length);
        Assert.True(File.Exists(Path.Combine(dir.Path, "checkpoint", "model.bin")));
    }

    [Fact]
    public void ResumeContinuesTheSameRun()
    {
        var tokens = TinyData.Tokens();
        using var straight = new TempDir();
        var a = new TidarTrainer(Options(20), straight.Path, tokens, tokens, _ => { });
        a.Run(resume: false);

        using var split = new TempDir();
        new TidarTrainer(Options(10), split.Path, tokens, tokens, _ => { }).Run(resume: false);
        var b = new TidarTrainer(Options(20), split.Path, tokens, tokens, _ => { });
        b.Run(resume: true);

        // The first 10 steps decay toward a 10-step schedule, so weights differ; resume must still
        // pick up step, token count and optimizer state, and the log must continue from step 11.
        var csv = File.ReadAllLines(Path.Combine(split.Path, "metrics.csv"));
        Assert.Equal(21, csv.Length);
        Assert.Equal("11", csv[11].Split(',')[0]);
        Assert.Equal((20L * 8 * 16).ToString(), csv[20].Split(',')[1]);
        Assert.True(b.Evaluate().Ar < 5.0);
    }

    [Fact]
    public void LossIsTheAlphaWeightedMeanOfArAndDiffusion()
    {
        TorchSharp.torch.manual_seed(3);
        var model = new TidarTransformer(TinyData.TinyConfig());
        var objective = new TidarObjective(TinyData.Tokenizer.MaskId, alpha: 2.0);
        var tokens = TinyData.Tokens();
        using var windows = new WindowSampler(tokens, 16, 1).Batch(0, 2);
        var (loss, ar, diff) = objective.Compute(model, windows, 4);
        Assert.Equal((2 * ar.item<float>() + diff.item<float>()) / 3, loss.item<float>(), 5);
        // An untrained model is near uniform: both losses near ln(vocab).
        Assert.InRange(ar.item<float>(), Math.Log(320) - 0.5, Math.Log(320) + 0.5);
    }
}
