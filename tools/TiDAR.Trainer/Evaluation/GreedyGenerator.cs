using TiDAR.Trainer.Model;
using static TorchSharp.torch;

namespace TiDAR.Trainer.Evaluation;

/// <summary>Batched greedy AR generation with a KV cache (for self-distillation data and checks).</summary>
public static class GreedyGenerator
{
    /// <summary>Prompts [B, P] (int64) -> [B, P + n]: the prompts followed by n greedy tokens each.</summary>
    public static Tensor Generate(TidarTransformer model, Tensor prompts, int n)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        long p = prompts.shape[1];
        var caches = new (Tensor K, Tensor V)?[model.Config.Layers];
        var causal = ones(p, p, dtype: ScalarType.Bool).tril();
        var logits = model.ForwardCached(prompts, 0, causal, caches);
        var next = logits.narrow(1, p - 1, 1).argmax(-1);             // [B, 1]
        var outputs = new List<Tensor> { prompts, next };
        for (int i = 1; i < n; i++)
        {
            logits = model.ForwardCached(next, (int)p + i - 1, null, caches);
            next = logits.argmax(-1);
            outputs.Add(next);
        }
        return cat(outputs, 1).MoveToOuterDisposeScope();
    }
}
