using TiDAR.Trainer.Evaluation;
using TiDAR.Trainer.Model;
using TiDAR.Trainer.Training;
using static TorchSharp.torch;

namespace TiDAR.Trainer.Tests;

/// <summary>The KV-cached greedy generator (self-distillation data) and the TorchSharp TiDAR simulator.</summary>
public class DecodingTests
{
    private static TidarTransformer TrainedTinyModel()
    {
        using var dir = new TempDir();
        var tokens = TinyData.Tokens();
        var trainer = new TidarTrainer(new TrainOptions
        {
            Model = TinyData.TinyConfig(), SeqLen = 16, Batch = 8, Steps = 30, BlockSizes = [4], Lr = 3e-3,
            WarmupSteps = 5, EvalEvery = 1000, EvalWindows = 4, CheckpointEvery = 1000, Seed = 5,
        }, dir.Path, tokens, tokens, _ => { });
        trainer.Run(resume: false);
        trainer.Model.eval();
        return trainer.Model;
    }

    [Fact]
    public void CachedGreedyGenerationEqualsFullRecompute()
    {
        var model = TrainedTinyModel();
        var prompt = TinyData.Tokenizer.Encode("It was the best of times");
        var cached = TidarSimulator.GreedyAr(model, prompt, 20);
        // Full recompute: one causal forward over the whole sequence per new token.
        var seq = prompt.ToList();
        using (no_grad())
            for (int i = 0; i < 20; i++)
            {
                int n = seq.Count;
                var logits = model.forward(tensor(seq.Select(t => (long)t).ToArray(), [1, n]), arange(n, dtype: ScalarType.Int64),
                    ones(n, n, dtype: ScalarType.Bool).tril());
                seq.Add((int)logits[0, n - 1].argmax().item<long>());
            }
        Assert.Equal(seq.Skip(prompt.Length), cached);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void SimulatedTidarIsExactlyGreedyAr(int k)
    {
        var model = TrainedTinyModel();
        var prompt = TinyData.Tokenizer.Encode("Call me Ishmael. Some years ago");
        var ar = TidarSimulator.GreedyAr(model, prompt, 24);
        var tidar = TidarSimulator.Generate(model, prompt, k, 24);
        Assert.Equal(ar, tidar.Tokens);
        Assert.InRange(tidar.Forwards, (24 + k - 1) / k, 24);
    }
}

public class SelfDistillationTests
{
    [Fact]
    public void RunsAndWritesACheckpoint()
    {
        using var dir = new TempDir();
        var tokens = TinyData.Tokens();
        var o = new TrainOptions
        {
            Model = TinyData.TinyConfig(), SeqLen = 16, Batch = 4, Steps = 10, BlockSizes = [4, 8], EvalWindows = 4, Seed = 3,
        };
        var trainer = new TidarTrainer(o, dir.Path, tokens, tokens, _ => { });
        new SelfDistiller(o, trainer, tokens, dir.Path, _ => { }) { Minutes = 0.05, PromptTokens = 4, GenerateBatch = 8 }.Run();
        var csv = File.ReadAllLines(Path.Combine(dir.Path, "metrics.csv"));
        Assert.Contains(csv, l => l.EndsWith(",distill"));
        Assert.Contains(csv, l => l.EndsWith(",real"));
        Assert.True(File.Exists(Path.Combine(dir.Path, "checkpoint", "model.bin")));
    }
}
