using TiDAR.Engine.Model;

namespace TiDAR.Tests.Model;

/// <summary>Small random decoders of each architecture, built in memory for exactness tests.</summary>
public static class TinyModels
{
    public static ModelConfig Config(Architecture arch, int vocab = 67, int context = 64) => new()
    {
        Architecture = arch,
        VocabSize = vocab,
        Dim = 64,
        Layers = 2,
        Heads = 4,
        KvHeads = 2,
        // Qwen3 decouples head_dim from dim / heads; exercise that.
        HeadDim = arch == Architecture.Qwen3 ? 24 : 16,
        FfnDim = 96,
        RmsEps = 1e-6f,
        RopeBase = arch == Architecture.Llama ? 10000f : 1000000f,
        ContextLength = context,
        TiedEmbeddings = arch == Architecture.Qwen2,
    };

    /// <summary>Random weights, scaled by 1/sqrt(fan-in) so activations stay O(1) through the layers.</summary>
    public static MemoryWeightSource Weights(ModelConfig c, int seed, SourceType type = SourceType.F32)
    {
        var rng = new Random(seed);
        var w = new MemoryWeightSource();
        float[] Rand(int n, float scale) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * scale; return a; }
        float[] Norm(int n) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = 1f + (float)(rng.NextDouble() - 0.5) * 0.2f; return a; }
        void Mat(string name, int rows, int cols) => w.Add(name, Rand(rows * cols, 1.7f / MathF.Sqrt(cols)), [cols, rows], type);
        void Vec(string name, float[] v) => w.Add(name, v, [v.Length]);

        Mat(TensorNames.TokenEmbedding, c.VocabSize, c.Dim);
        if (!c.TiedEmbeddings) Mat(TensorNames.Output, c.VocabSize, c.Dim);
        Vec(TensorNames.OutputNorm, Norm(c.Dim));
        for (int l = 0; l < c.Layers; l++)
        {
            Vec(TensorNames.AttnNorm(l), Norm(c.Dim));
            Mat(TensorNames.Q(l), c.QDim, c.Dim);
            Mat(TensorNames.K(l), c.KvDim, c.Dim);
            Mat(TensorNames.V(l), c.KvDim, c.Dim);
            if (c.QkvBias)
            {
                Vec(TensorNames.QBias(l), Rand(c.QDim, 0.3f));
                Vec(TensorNames.KBias(l), Rand(c.KvDim, 0.3f));
                Vec(TensorNames.VBias(l), Rand(c.KvDim, 0.3f));
            }
            if (c.QkNorm)
            {
                Vec(TensorNames.QNorm(l), Norm(c.HeadDim));
                Vec(TensorNames.KNorm(l), Norm(c.HeadDim));
            }
            Mat(TensorNames.AttnOutput(l), c.Dim, c.QDim);
            Vec(TensorNames.FfnNorm(l), Norm(c.Dim));
            Mat(TensorNames.Gate(l), c.FfnDim, c.Dim);
            Mat(TensorNames.Up(l), c.FfnDim, c.Dim);
            Mat(TensorNames.Down(l), c.Dim, c.FfnDim);
        }
        return w;
    }
}
