using System.Diagnostics;
using TiDAR.Engine.Gguf;
using TiDAR.Engine.Model;
using TiDAR.Engine.Tokenizer;

namespace TiDAR.WeightsConvert;

/// <summary>
/// Hugging Face checkpoint folder -> one GGUF file llama.cpp can run. Everything is checked before the first byte
/// of tensor data is written; tensors are then streamed one chunk at a time (memory stays at a chunk, not a model
/// or a tensor). On any failure the exception propagates and no file appears at the output path.
/// </summary>
public static class GgufConverter
{
    public static ConvertResult Convert(string hfDir, string outPath, ConvertOptions? options = null, IProgress<ConvertProgress>? progress = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(hfDir);
        ArgumentException.ThrowIfNullOrEmpty(outPath);
        options ??= new ConvertOptions();
        if (options.ChunkElements < 1) throw new ArgumentOutOfRangeException(nameof(options), "ChunkElements must be at least 1.");
        if (options.MaskTokenId is < 0) throw new ArgumentException($"The mask token id must not be negative (got {options.MaskTokenId}).");
        if (options.BlockSize is < 1) throw new ArgumentException($"The block size must be at least 1 (got {options.BlockSize}).");
        var clock = Stopwatch.StartNew();
        string output = Path.GetFullPath(outPath);

        using var source = HfWeightSource.Open(hfDir);
        var hf = source.Config;
        var config = hf.ToModelConfig(options.MaskTokenId, options.BlockSize);
        if (config.MaskTokenId is int mask && mask >= config.VocabSize)
            throw new ArgumentException($"The mask token id {mask} is outside the model's vocabulary of {config.VocabSize} tokens.");
        config.Validate();

        var warnings = new List<string>();
        var plan = ConversionPlan.Build(source, config, hf.AttentionBias, options.OutputType, warnings);
        // rotary_emb.inv_freq buffers and a tied lm_head are expected leftovers; anything else is worth a word.
        var ignored = source.IgnoredTensors.Where(n => !n.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal) && n != "lm_head.weight").ToList();
        if (ignored.Count > 0)
            warnings.Add($"Ignored {ignored.Count} checkpoint tensor(s) with no GGUF counterpart: {string.Join(", ", ignored.Take(5))}{(ignored.Count > 5 ? ", ..." : ".")}");
        foreach (var w in warnings) progress?.Report(new ConvertProgress(0, plan.Count, "", 0, 0, w));

        var tokenizer = GgufMetadataBuilder.FitTokenizer(
            TokenizerData.FromHuggingFace(source.Checkpoint.TokenizerPath, source.Checkpoint.TokenizerConfigPath), hf, source.Checkpoint.TokenizerPath);
        string name = options.Name ?? Path.GetFileName(source.Checkpoint.Directory.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        var metadata = GgufMetadataBuilder.Build(config, name, options.OutputType, tokenizer);

        long total = plan.Sum(t => t.OutputBytes), done = 0;
        using (var writer = new GgufWriter(output))
        {
            foreach (var (key, value) in metadata) writer.SetMetadata(key, value);
            foreach (var t in plan) writer.AddTensor(t.Name, t.Type, t.GgufDims);
            for (int i = 0; i < plan.Count; i++)
            {
                var t = plan[i];
                progress?.Report(new ConvertProgress(i, plan.Count, t.Name, done, total));
                done = WriteTensor(writer, source, t, options.ChunkElements, done,
                    progress is null ? null : d => progress.Report(new ConvertProgress(i, plan.Count, t.Name, d, total)));
            }
            writer.Finish();
        }
        progress?.Report(new ConvertProgress(plan.Count, plan.Count, "", done, total));
        return new ConvertResult(output, plan.Count, total, new FileInfo(output).Length, clock.Elapsed, config, warnings);
    }

    /// <summary>Streams one tensor in chunks of whole rows: permuted (llama q/k), converted, encoded.</summary>
    private static long WriteTensor(GgufWriter writer, HfWeightSource source, PlannedTensor t, int chunkElements, long done, Action<long>? report)
    {
        long rows = t.Rows, cols = t.Cols;
        if (cols > int.MaxValue / 4) throw new NotSupportedException($"{t.HfName}: rows of {cols} elements are too long to convert.");
        var stored = source.StoredType(t.Name);
        bool raw = TensorEncoder.SameEncoding(stored, t.Type);
        long rowsPerChunk = Math.Clamp(chunkElements / cols, 1, rows);
        long rowBytes = t.OutputBytes / rows;
        float[]? buffer = raw ? null : new float[rowsPerChunk * cols];

        for (long r = 0; r < rows; r += rowsPerChunk)
        {
            int n = (int)Math.Min(rowsPerChunk, rows - r);
            int count = (int)(n * cols);
            if (raw)
            {
                if (t.PermuteHeads is int heads)
                    for (int k = 0; k < n; k++)
                        writer.WriteTensorData(source.RawElements(t.Name, LlamaQkPermutation.SourceRow(r + k, heads, rows) * cols, (int)cols));
                else
                    writer.WriteTensorData(source.RawElements(t.Name, r * cols, count));
            }
            else
            {
                var values = buffer.AsSpan(0, count);
                if (t.PermuteHeads is int heads)
                    for (int k = 0; k < n; k++)
                        source.ReadFloat32Elements(t.Name, LlamaQkPermutation.SourceRow(r + k, heads, rows) * cols, (int)cols, values.Slice(k * (int)cols, (int)cols));
                else
                    source.ReadFloat32Elements(t.Name, r * cols, count, values);
                writer.WriteTensorData(TensorEncoder.Encode(t.Type, values));
            }
            done += n * rowBytes;
            report?.Invoke(done);
        }
        return done;
    }
}
