using System.Diagnostics;
using System.Globalization;
using TiDAR.Trainer.Evaluation;
using TiDAR.Trainer.Model;
using static TorchSharp.torch;

namespace TiDAR.Trainer.Training;

/// <summary>
/// Self-distillation for drafting: the model greedily continues prompts taken from the training text
/// (batched, KV cache), and the diffusion half learns to predict those greedy continuations through the
/// usual TiDAR layout (the clean half is the prompt + greedy continuation). At exact greedy decoding a
/// draft is accepted when it equals the AR argmax, so this is the distribution the drafts must match.
/// Steps alternate with ordinary TiDAR steps on real text so the AR head keeps learning the data.
/// </summary>
public sealed class SelfDistiller(TrainOptions o, TidarTrainer trainer, ushort[] train, string outDir, Action<string> log)
{
    public int PromptTokens { get; init; } = 32;
    public int GenerateBatch { get; init; } = 60;
    public double Minutes { get; init; } = 15;
    public double Lr { get; init; } = 5e-4;
    public int WarmupSteps { get; init; } = 20;
    /// <summary>Distillation steps per real-text step (e.g. 2: two greedy-continuation steps, then one real).</summary>
    public int DistillPerReal { get; init; } = 2;
    /// <summary>How many times each generated continuation is trained on (with the block sizes cycling).</summary>
    public int Reuse { get; init; } = 2;

    public void Run()
    {
        var model = trainer.Model;
        var objective = trainer.Objective;
        Directory.CreateDirectory(outDir);
        string csvPath = Path.Combine(outDir, "metrics.csv");
        File.WriteAllText(csvPath, TidarTrainer.CsvHeader + ",kind\n");
        var decay = model.parameters().Where(p => p.dim() >= 2).ToList();
        var noDecay = model.parameters().Where(p => p.dim() < 2).ToList();
        var opt = optim.AdamW(
        [
            new TorchSharp.Modules.AdamW.ParamGroup(decay, new TorchSharp.Modules.AdamW.Options { LearningRate = Lr, weight_decay = o.WeightDecay, beta1 = o.Beta1, beta2 = o.Beta2 }),
            new TorchSharp.Modules.AdamW.ParamGroup(noDecay, new TorchSharp.Modules.AdamW.Options { LearningRate = Lr, weight_decay = 0.0, beta1 = o.Beta1, beta2 = o.Beta2 }),
        ], Lr, o.Beta1, o.Beta2, 1e-8, o.WeightDecay);
        var realSampler = new WindowSampler(train, o.SeqLen, o.Seed + 7919);
        var promptSampler = new WindowSampler(train, PromptTokens - 1, o.Seed + 104729);
        var sw = Stopwatch.StartNew();
        Tensor? pool = null; int poolUsed = 0, poolPasses = 0, genBatches = 0;
        int step = 0; long tokens = 0;
        double genSeconds = 0;
        while (sw.Elapsed.TotalMinutes < Minutes)
        {
            double t = sw.Elapsed.TotalMinutes / Minutes;
            double lr = step < WarmupSteps ? Lr * (step + 1) / WarmupSteps : Lr * (0.1 + 0.45 * (1 + Math.Cos(Math.PI * t)));
            foreach (var g in opt.ParamGroups) g.LearningRate = lr;
            bool distill = step % (DistillPerReal + 1) != DistillPerReal;
            // Each kind of step cycles through the block sizes on its own, so both kinds see every k.
            int kindIndex = distill ? step - step / (DistillPerReal + 1) : step / (DistillPerReal + 1);
            int k = o.BlockSizes[kindIndex % o.BlockSizes.Length];
            Tensor batch;
            if (distill)
            {
                if (pool is not null && poolUsed + o.Batch > pool.shape[0] && ++poolPasses < Reuse) poolUsed = 0;
                if (pool is null || poolUsed + o.Batch > pool.shape[0])
                {
                    poolPasses = 0;
                    pool?.Dispose();
                    var g0 = sw.Elapsed.TotalSeconds;
                    model.eval();
                    using (var prompts = promptSampler.Batch(1_000_000 + genBatches++, GenerateBatch))
                        pool = GreedyGenerator.Generate(model, prompts, o.SeqLen + 1 - PromptTokens);
                    model.train();
                    pool.DetachFromDisposeScope();
                    poolUsed = 0;
                    genSeconds += sw.Elapsed.TotalSeconds - g0;
                }
                batch = pool.narrow(0, poolUsed, o.Batch);
                poolUsed += o.Batch;
            }
            else batch = realSampler.Batch(step, o.Batch);

            double loss, ar, diff, gnorm;
            using (var scope = NewDisposeScope())
            {
                opt.zero_grad();
                var r = objective.Compute(model, batch, k);
                // Distillation steps train the drafts only; real-text steps use the full TiDAR loss.
                var l = distill ? r.Diff : r.Loss;
                l.backward();
                gnorm = nn.utils.clip_grad_norm_(model.parameters(), o.GradClip);
                opt.step();
                loss = l.item<float>(); ar = r.Ar.item<float>(); diff = r.Diff.item<float>();
            }
            if (!distill) batch.Dispose();
            step++;
            tokens += o.TokensPerStep;
            string val = ",,";
            bool last = sw.Elapsed.TotalMinutes >= Minutes;
            if (step % 100 == 0 || last)
            {
                var (va, v4, v8) = trainer.Evaluate();
                val = string.Create(CultureInfo.InvariantCulture, $"{va:F4},{v4:F4},{v8:F4}");
                log(string.Create(CultureInfo.InvariantCulture, $"distill step {step}: val AR {va:F4} (ppl {Math.Exp(va):F1}), val diff k4 {v4:F4}, k8 {v8:F4}; generation {genSeconds:F0} s of {sw.Elapsed.TotalSeconds:F0} s"));
            }
            File.AppendAllText(csvPath, string.Create(CultureInfo.InvariantCulture,
                $"{step},{tokens},{lr:E4},{loss:F4},{ar:F4},{diff:F4},{k},{gnorm:F4},{val},0,{sw.Elapsed.TotalSeconds:F1},{(distill ? "distill" : "real")}\n"));
            if (step % 10 == 0) log(string.Create(CultureInfo.InvariantCulture, $"distill step {step} ({(distill ? "greedy" : "real")}, k{k}): AR {ar:F3} diff {diff:F3} lr {lr:E2} elapsed {sw.Elapsed:mm\\:ss}/{TimeSpan.FromMinutes(Minutes):mm\\:ss}"));
            if (step % 100 == 0 || last) Checkpoint.Save(outDir, model, opt, new CheckpointState(step, tokens, sw.Elapsed.TotalSeconds));
        }
        log($"distillation done: {step} steps ({step - step / (DistillPerReal + 1)} on greedy continuations, {genBatches} generation batches of {GenerateBatch}), {sw.Elapsed.TotalMinutes:F1} min");
    }
}
