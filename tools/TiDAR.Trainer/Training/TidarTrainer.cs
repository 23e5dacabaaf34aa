using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using TorchSharp;
using TiDAR.Trainer.Model;
using static TorchSharp.torch;

namespace TiDAR.Trainer.Training;

/// <summary>The training loop: AdamW, warmup + cosine, gradient clipping, periodic eval, CSV log, checkpoints.</summary>
public sealed class TidarTrainer
{
    public const string CsvHeader = "step,tokens,lr,loss,ar_loss,diff_loss,k,grad_norm,val_ar,val_diff_k4,val_diff_k8,tokens_per_s,elapsed_s";

    private readonly TrainOptions _o;
    private readonly string _runDir;
    private readonly ushort[] _train, _valid;
    private readonly Action<string> _log;

    public TidarTransformer Model { get; }
    public TidarObjective Objective { get; }

    public TidarTrainer(TrainOptions o, string runDir, ushort[] train, ushort[] valid, Action<string>? log = null)
    {
        _o = o; _runDir = runDir; _train = train; _valid = valid;
        _log = log ?? Console.WriteLine;
        torch.set_num_threads(o.Threads);
        torch.manual_seed(o.Seed);
        Model = new TidarTransformer(o.Model);
        Objective = new TidarObjective(o.Model.MaskTokenId, o.Alpha);
    }

    private TorchSharp.Modules.AdamW CreateOptimizer()
    {
        var decay = new List<TorchSharp.Modules.Parameter>();
        var noDecay = new List<TorchSharp.Modules.Parameter>();
        foreach (var (name, p) in Model.named_parameters())
            (p.dim() >= 2 ? decay : noDecay).Add(p);
        return torch.optim.AdamW(
        [
            new TorchSharp.Modules.AdamW.ParamGroup(decay, new TorchSharp.Modules.AdamW.Options { LearningRate = _o.Lr, weight_decay = _o.WeightDecay, beta1 = _o.Beta1, beta2 = _o.Beta2 }),
            new TorchSharp.Modules.AdamW.ParamGroup(noDecay, new TorchSharp.Modules.AdamW.Options { LearningRate = _o.Lr, weight_decay = 0.0, beta1 = _o.Beta1, beta2 = _o.Beta2 }),
        ], _o.Lr, _o.Beta1, _o.Beta2, 1e-8, _o.WeightDecay);
    }

    /// <summary>Validation losses on the fixed held-out windows: AR CE, diffusion CE at k = 4 and k = 8.</summary>
    public (double Ar, double Diff4, double Diff8) Evaluate(int windows = 0)
    {
        Model.eval();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var w = WindowSampler.Evenly(_valid, _o.SeqLen, windows > 0 ? windows : _o.EvalWindows);
        double ar = 0, d4 = 0, d8 = 0; int n = 0;
        for (long i = 0; i < w.shape[0]; i += 8)
        {
            var chunk = w.narrow(0, i, Math.Min(8, w.shape[0] - i));
            var r4 = Objective.Compute(Model, chunk, 4);
            var r8 = Objective.Compute(Model, chunk, 8);
            ar += r4.Ar.item<float>() * chunk.shape[0];
            d4 += r4.Diff.item<float>() * chunk.shape[0];
            d8 += r8.Diff.item<float>() * chunk.shape[0];
            n += (int)chunk.shape[0];
        }
        Model.train();
        return (ar / n, d4 / n, d8 / n);
    }

    public void Run(bool resume, double maxMinutes = 0)
    {
        Directory.CreateDirectory(_runDir);
        var opt = CreateOptimizer();
        int step = 0; long tokens = 0; double elapsedBefore = 0;
        string csvPath = Path.Combine(_runDir, "metrics.csv");
        if (resume)
        {
            var st = Checkpoint.Load(_runDir, Model, opt);
            if (st is null) _log("no checkpoint to resume from; starting fresh");
            else
            {
                (step, tokens, elapsedBefore) = (st.Step, st.Tokens, st.ElapsedSeconds);
                _log($"resumed at step {step} ({tokens:N0} tokens)");
                // Drop CSV lines past the checkpoint so the log stays one consistent history.
                if (File.Exists(csvPath))
                    File.WriteAllLines(csvPath, File.ReadAllLines(csvPath).Where((l, i) => i == 0 || int.Parse(l.Split(',')[0]) <= step));
            }
        }
        if (step == 0 || !File.Exists(csvPath)) File.WriteAllText(csvPath, CsvHeader + "\n");
        _log($"model: {Model.ParameterCount():N0} parameters; {_o.TokensPerStep:N0} tokens/step; {_o.Steps} steps; block sizes {string.Join(",", _o.BlockSizes)}");

        var sampler = new WindowSampler(_train, _o.SeqLen, _o.Seed);
        var sw = Stopwatch.StartNew();
        int startStep = step;
        double emaTps = 0;
        Model.train();

        void Loop(Action<int, string>? progress)
        {
            while (step < _o.Steps)
            {
                double lr = _o.LearningRate(step, (elapsedBefore + sw.Elapsed.TotalSeconds) / 60);
                foreach (var g in opt.ParamGroups) g.LearningRate = lr;
                int k = _o.BlockSizes[step % _o.BlockSizes.Length];
                double loss, ar, diff, gnorm;
                var t0 = sw.Elapsed.TotalSeconds;
                using (var scope = NewDisposeScope())
                {
                    var batch = sampler.Batch(step, _o.Batch);
                    opt.zero_grad();
                    var r = Objective.Compute(Model, batch, k);
                    r.Loss.backward();
                    gnorm = nn.utils.clip_grad_norm_(Model.parameters(), _o.GradClip);
                    opt.step();
                    loss = r.Loss.item<float>(); ar = r.Ar.item<float>(); diff = r.Diff.item<float>();
                }
                step++;
                tokens += _o.TokensPerStep;
                double dt = sw.Elapsed.TotalSeconds - t0;
                double tps = _o.TokensPerStep / Math.Max(dt, 1e-9);
                emaTps = emaTps == 0 ? tps : 0.95 * emaTps + 0.05 * tps;
                string val = ",,";
                bool last = step == _o.Steps || (_o.TimeBudgetMinutes > 0 && (elapsedBefore + sw.Elapsed.TotalSeconds) / 60 >= _o.TimeBudgetMinutes);
                bool outOfTime = maxMinutes > 0 && (elapsedBefore + sw.Elapsed.TotalSeconds) / 60 >= maxMinutes;
                if (step % _o.EvalEvery == 0 || last || outOfTime)
                {
                    var (va, v4, v8) = Evaluate();
                    val = string.Create(CultureInfo.InvariantCulture, $"{va:F4},{v4:F4},{v8:F4}");
                    _log(string.Create(CultureInfo.InvariantCulture, $"step {step}: val AR {va:F4} (ppl {Math.Exp(va):F1}), val diff k4 {v4:F4}, k8 {v8:F4}"));
                }
                double elapsed = elapsedBefore + sw.Elapsed.TotalSeconds;
                File.AppendAllText(csvPath, string.Create(CultureInfo.InvariantCulture,
                    $"{step},{tokens},{lr:E4},{loss:F4},{ar:F4},{diff:F4},{k},{gnorm:F4},{val},{tps:F0},{elapsed:F1}\n"));
                double eta = _o.TimeBudgetMinutes > 0
                    ? Math.Max(0, _o.TimeBudgetMinutes * 60 - (elapsedBefore + sw.Elapsed.TotalSeconds))
                    : (_o.Steps - step) * _o.TokensPerStep / Math.Max(emaTps, 1);
                string status = string.Create(CultureInfo.InvariantCulture,
                    $"step {step}/{_o.Steps} loss {loss:F3} (AR {ar:F3}, diff k{k} {diff:F3}) lr {lr:E2} {emaTps:F0} tok/s ETA {TimeSpan.FromSeconds(eta):hh\\:mm\\:ss}");
                progress?.Invoke(step, status);
                if (progress is null || step % 10 == 0 || step == startStep + 1) _log(status);
                if (step % _o.CheckpointEvery == 0 || last || outOfTime)
                    Checkpoint.Save(_runDir, Model, opt, new CheckpointState(step, tokens, elapsed));
                if (last) break;
                if (outOfTime) { _log($"--max-minutes reached at step {step}; checkpoint saved, resume with --resume"); break; }
            }
        }

        if (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected)
        {
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("training", maxValue: _o.Steps);
                    task.Value = step;
                    Loop((s, status) => { task.Value = s; task.Description = Markup.Escape(status); });
                });
        }
        else Loop(null);
        _log($"done: step {step}, {tokens:N0} tokens, {(elapsedBefore + sw.Elapsed.TotalSeconds) / 60:F1} min");
    }
}
