using System.Diagnostics;
using TiDAR.Engine.Model;

namespace TiDAR.Engine.Generation;

/// <summary>
/// TiDAR self-speculative decoding (DESIGN.md section 1): each forward verifies the k drafts of the
/// step before in AR mode and, for every possible number of accepted drafts, pre-drafts the next k in
/// diffusion mode. The KV cache commits by length: accepted drafts already sit at their slots; the
/// rest of the step is scratch.
/// </summary>
public sealed class TidarDecoder
{
    private readonly GpuModel _model;
    private readonly KvCache _cache;
    private readonly int _mask;

    public TidarDecoder(GpuModel model, KvCache cache)
    {
        _model = model;
        _cache = cache;
        _mask = model.Config.MaskTokenId
            ?? throw new InvalidOperationException("This model has no mask token (GGUF key tidar.mask_token_id), so it cannot draft: TiDAR decoding needs a TiDAR-trained model. Use AR decoding (--mode ar).");
    }

    /// <summary>The most tokens (prompt + output) a cache of <paramref name="capacity"/> slots holds at block size k.</summary>
    public static int ContextFor(int capacity, int k) => capacity - k * (k + 1);

    public GenerationResult Generate(IReadOnlyList<int> prompt, GenerationOptions options, TidarOptions tidar, Func<int, bool>? onToken = null)
    {
        options.Sampling.Validate();
        tidar.Validate(_cache.Capacity, Math.Min(_model.Options.MaxRows, _model.Options.MaxOutputRows));
        if (tidar.Verify == VerifyMode.Paper && !options.Sampling.Greedy)
            throw new ArgumentException("Paper verification mixes logits for a greedy choice; use temperature 0, or exact verification for sampling.");
        if (prompt.Count == 0) throw new ArgumentException("The prompt is empty; give at least one token.");
        int k = tidar.Block;
        int context = ContextFor(_cache.Capacity, k);
        if (prompt.Count >= context)
            throw new ArgumentException($"The prompt has {prompt.Count} tokens but the context holds {context} at block size {k}; shorten the prompt or raise the context size.");

        var step = new StepRunner(_model, _cache, _mask, k, tidar, options.Sampling);
        var sink = new TokenSink(options, context, onToken);
        var histogram = new int[k];
        var sw = Stopwatch.StartNew();
        var (d0, drafts) = step.First(prompt);
        double prefillMs = sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        int forwards = 1, steps = 0, length = prompt.Count;

        if (sink.Offer(d0, length))
        {
            while (true)
            {
                drafts[0] = d0;
                var (accepted, next) = step.Next(length, drafts);
                steps++;
                forwards++;
                histogram[accepted - 1]++;
                bool go = true;
                for (int i = 1; i < accepted && go; i++) go = sink.Offer(drafts[i], length + i);
                if (!go) break;
                length += accepted;
                (d0, drafts) = next;
                if (!sink.Offer(d0, length)) break;
            }
        }
        var stats = new GenerationStats
        {
            PromptTokens = prompt.Count,
            GeneratedTokens = sink.Tokens.Count,
            Forwards = forwards,
            PrefillMs = prefillMs,
            DecodeMs = sw.Elapsed.TotalMilliseconds,
            Mode = "tidar",
            Block = k,
            RowsPerForward = steps == 0 ? 0 : k * (k + 1),
            AcceptedPerPosition = histogram,
        };
        return new GenerationResult(sink.Tokens, sink.Reason!.Value, stats);
    }

    /// <summary>One decoding session's forwards and verification rules.</summary>
    private sealed class StepRunner(GpuModel model, KvCache cache, int mask, int k, TidarOptions tidar, SamplingOptions sampling)
    {
        private readonly Sampler _sampler = new(sampling);
        private readonly bool _greedy = sampling.Greedy;
        private readonly bool _paper = tidar.Verify == VerifyMode.Paper;
        private readonly int _vocab = model.Config.VocabSize;
        // Per draft c >= 1: the diffusion distribution (sampling) or logit row (paper mode) that proposed it.
        private double[][] _q = new double[k][];
        private float[][] _diffLogits = new float[k][];

        private bool NeedLogits => !_greedy || _paper;

        /// <summary>Prefill (chunked) with k mask rows in the last forward; returns d_0 and the drafts.</summary>
        public (int D0, int[] Drafts) First(IReadOnlyList<int> prompt)
        {
            int p = prompt.Count, room = model.Options.MaxRows - k;
            int lastStart = Math.Max(0, p - room);
            for (int start = 0; start < lastStart; start += room)
            {
                int n = Math.Min(room, lastStart - start);
                var rows = new ForwardRow[n];
                for (int i = 0; i < n; i++) rows[i] = ForwardRow.Causal(prompt[start + i], start + i);
                model.Forward(cache, rows, [], logits: false);
            }
            var first = TidarStepLayout.FirstStep(prompt, lastStart, k, mask);
            int last = p - lastStart - 1;
            var outputs = new int[k + 1];
            outputs[0] = last;
            for (int c = 0; c < k; c++) outputs[c + 1] = last + 1 + c;
            var o = model.Forward(cache, first, outputs, logits: NeedLogits, argmax: !NeedLogits);
            var drafts = new int[k];
            int d0 = Choose(o, arRow: 0, diffRow: 1);
            for (int c = 1; c < k; c++) drafts[c] = Propose(o, 1 + c, c);
            return (d0, drafts);
        }

        /// <summary>One step: verifies drafts (drafts[0] = d_0 is certain); returns how many were accepted and the next d_0 and drafts.</summary>
        public (int Accepted, (int D0, int[] Drafts) Next) Next(int length, int[] drafts)
        {
            var rows = TidarStepLayout.Step(length, drafts, mask);
            var outputs = Enumerable.Range(0, rows.Length).ToArray();
            var o = model.Forward(cache, rows, outputs, logits: NeedLogits, argmax: !NeedLogits);

            int a = 1;
            int? replacement = null;
            for (; a < k; a++)
            {
                var verdict = Verify(o, a, drafts[a]);
                if (verdict.Accept) continue;
                replacement = verdict.Replacement;
                break;
            }
            // d_0 of the next step: the token at position L+a, exact from verify row a-1.
            int d0 = replacement ?? Choose(o, arRow: a - 1, diffRow: TidarStepLayout.BlockRow(k, a, 0));
            var next = new int[k];
            for (int c = 1; c < k; c++) next[c] = Propose(o, TidarStepLayout.BlockRow(k, a, c), c);
            return (a, (d0, next));
        }

        private float[] Row(ForwardOutput o, int row) => o.Logits!.AsSpan(row * _vocab, _vocab).ToArray();

        /// <summary>The token at a position where verify row arRow has the AR logits (and diffRow the diffusion ones).</summary>
        private int Choose(ForwardOutput o, int arRow, int diffRow)
        {
            if (_paper) return Sampler.Argmax(Mix(Row(o, arRow), Row(o, diffRow)));
            if (_greedy) return o.Argmax![arRow].Token;
            return _sampler.Draw(Sampler.Distribution(Row(o, arRow), sampling));
        }

        /// <summary>Draft c from a diffusion row, remembering what proposed it for the next verification.</summary>
        private int Propose(ForwardOutput o, int row, int c)
        {
            if (_greedy && !_paper) return o.Argmax![row].Token;
            if (_paper)
            {
                _diffLogits[c] = Row(o, row);
                return Sampler.Argmax(_diffLogits[c]);
            }
            _q[c] = Sampler.Distribution(Row(o, row), sampling);
            return _sampler.Draw(_q[c]);
        }

        /// <summary>Whether draft i survives verify row i-1; on rejection, the token to use instead.</summary>
        private (bool Accept, int Replacement) Verify(ForwardOutput o, int i, int draft)
        {
            if (_paper)
            {
                int best = Sampler.Argmax(Mix(Row(o, i - 1), _diffLogits[i]));
                return (best == draft, best);
            }
            if (_greedy)
            {
                int best = o.Argmax![i - 1].Token;
                return (best == draft, best);
            }
            // Speculative sampling: accept with probability min(1, p(d)/q(d)); else draw from max(0, p - q).
            var p = Sampler.Distribution(Row(o, i - 1), sampling);
            var q = _q[i];
            if (_sampler.NextUniform() < Math.Min(1.0, p[draft] / q[draft])) return (true, draft);
            var residual = new double[p.Length];
            double total = 0;
            for (int t = 0; t < p.Length; t++) { residual[t] = Math.Max(0, p[t] - q[t]); total += residual[t]; }
            if (total <= 0) return (false, _sampler.Draw(p));
            for (int t = 0; t < p.Length; t++) residual[t] /= total;
            return (false, _sampler.Draw(residual));
        }

        private float[] Mix(float[] ar, float[] diff)
        {
            var m = new float[ar.Length];
            for (int t = 0; t < m.Length; t++) m[t] = tidar.Beta * ar[t] + (1 - tidar.Beta) * diff[t];
            return m;
        }
    }
}
