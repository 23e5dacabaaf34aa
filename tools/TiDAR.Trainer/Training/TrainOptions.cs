using System.Text.Json;
using TiDAR.Trainer.Model;

namespace TiDAR.Trainer.Training;

/// <summary>Everything that defines a run; saved as run.json so --resume continues the same run.</summary>
public sealed record TrainOptions
{
    public TidarConfig Model { get; init; } = new();
    public int SeqLen { get; init; } = 128;
    public int Batch { get; init; } = 16;
    public int Steps { get; init; } = 2000;
    public int[] BlockSizes { get; init; } = [4];
    public double Lr { get; init; } = 2e-3;
    public double MinLrFraction { get; init; } = 0.1;
    public int WarmupSteps { get; init; } = 100;
    public double WeightDecay { get; init; } = 0.1;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.95;
    public double GradClip { get; init; } = 1.0;
    public double Alpha { get; init; } = 1.0;
    public int EvalEvery { get; init; } = 100;
    public int EvalWindows { get; init; } = 32;
    public int CheckpointEvery { get; init; } = 100;
    public int Seed { get; init; } = 1234;
    public int Threads { get; init; } = 2;
    /// <summary>When positive, the run is sized by wall time: the cosine follows elapsed / budget and
    /// training stops when the budget is spent (Steps is then only an upper bound).</summary>
    public double TimeBudgetMinutes { get; init; }

    public long TokensPerStep => (long)Batch * SeqLen;

    /// <summary>Linear warmup to Lr, then cosine decay to Lr * MinLrFraction at the last step.</summary>
    public double LearningRate(int step, double elapsedMinutes = 0)
    {
        if (step < WarmupSteps) return Lr * (step + 1) / WarmupSteps;
        double t = TimeBudgetMinutes > 0
            ? Math.Clamp(elapsedMinutes / TimeBudgetMinutes, 0, 1)
            : Math.Min(1.0, (double)(step - WarmupSteps) / Math.Max(1, Steps - WarmupSteps));
        double min = Lr * MinLrFraction;
        return min + 0.5 * (Lr - min) * (1 + Math.Cos(Math.PI * t));
    }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };
    public string ToJson() => JsonSerializer.Serialize(this, Json);
    public static TrainOptions FromJson(string json) => JsonSerializer.Deserialize<TrainOptions>(json, Json)!;
}
