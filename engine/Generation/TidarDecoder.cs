using System.Diagnostics;
using TiDAR.Engine.Model;

namespace TiDAR.Engine.Generation;

/// <summary>
/// TiDAR self-speculative decoding (DESIGN.md section 1): each forward verifies the drafts of the step
/// before in AR mode and, for the acceptance outcomes its plan keeps, pre-drafts the next ones in
/// diffusion mode. The KV cache commits by length: accepted drafts already sit at their slots; the
/// rest of the step is scratch. A fixed block size runs the paper's schedule; --block auto lets
/// <see cref="AutoBlockPolicy"/> size each step from the device's latency profile.
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

    private int MaxRows => Math.Min(_model.Options.MaxRows, _model.Options.MaxOutputRows);

    public GenerationResult Generate(IReadOnlyList<int> prompt, GenerationOptions options, TidarOptions tidar, Func<int, bool>? onToken = null)
    {
        options.Sampling.Validate();
        tidar.Validate(_cache.Capacity, MaxRows);
        if (tidar.Verify == VerifyMode.Paper && !options.Sampling.Greedy)
            throw new ArgumentException("Paper verification mixes logits for a greedy choice; use temperature 0, or exact verification for sampling.");
        if (prompt.Count == 0) throw new ArgumentException("The prompt is empty; give at least one token.");
        int context = _cache.Capacity - tidar.ScratchSlots(MaxRows);
        if (prompt.Count >= context)
            throw new ArgumentException($"The prompt has {prompt.Count} tokens but the context holds {context} at this block size; shorten the prompt or raise the context size.");

        IStepPolicy policy = tidar.Policy ?? (tidar.AutoProfile is { } profile ? new AutoBlockPolicy(profile, MaxRows) : new FixedBlockPolicy(tidar.Block));
        var runner = new StepRunner(_model, _cache, _mask, tidar, options.Sampling);
        var sink = new TokenSink(options, context, onToken);
        var histogram = new int[tidar.AutoProfile is null && tidar.Policy is null ? tidar.Block : 16];
        var sw = Stopwatch.StartNew();
        var drafts = runner.First(prompt, policy.FirstBlock);
        double prefillMs = sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        int forwards = 1, steps = 0, length = prompt.Count;
        long rows = 0;

        if (sink.Offer(drafts[0], length))
        {
            while (true)
            {
                var plan = policy.Plan(drafts.Length);
                if (plan.Verify < 1 || plan.Verify > drafts.Length || plan.Rows > MaxRows)
                    throw new InvalidOperationException($"Step plan {plan} does not fit {drafts.Length} drafts and {MaxRows} rows.");
                long t0 = Stopwatch.GetTimestamp();
                var (accepted, next) = runner.Step(length, drafts, plan);
                policy.ObserveStepTime(plan, Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                policy.Observe(plan, accepted);
                steps++;
                forwards++;
                rows += plan.Rows;
                if (accepted - 1 < histogram.Length) histogram[accepted - 1]++;
                bool go = true;
                for (int i = 1; i < accepted && go; i++) go = sink.Offer(drafts[i], length + i);
                if (!go) break;
                length += accepted;
                drafts = next;
                if (!sink.Offer(drafts[0], length)) break;
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
            Block = policy is AutoBlockPolicy auto ? auto.Best.K : tidar.Block,
            Plan = policy.Describe(),
            RowsPerForward = steps == 0 ? 0 : rows / (double)steps,
            AcceptedPerPosition = histogram,
        };
        return new GenerationResult(sink.Tokens, sink.Reason!.Value, stats);
    }

    /// <summary>One decoding session's forwards and verification rules.</summary>
    private sealed class StepRunner(GpuModel model, KvCache cache, int mask, TidarOptions tidar, SamplingOptions sampling)
    {
        private readonly Sampler _sampler = new(sampling);
        private readonly bool _greedy = sampling.Greedy;
        private readonly bool _paper = tidar.Verify == VerifyMode.Paper;
        private readonly int _vocab = model.Config.VocabSize;
        // Per draft c >= 1 of the current drafts: the diffusion distribution (sampling) or logit row (paper mode) that proposed it.
        private double[]?[] _q = [];
        private float[]?[] _diffLogits = [];

        private bool NeedLogits => !_greedy || _paper;

        /// <summary>Prefill (chunked) with k mask rows in the last forward; returns d_0 and k-1 drafts.</summary>
        public int[] First(IReadOnlyList<int> prompt, int k)
        {
            int p = prompt.Count, room = model.Options.MaxRows - k;
            int lastStart = Math.Max(0, p - room);
            PromptPrefill.CacheHead(model, cache, prompt, lastStart, room);
            var first = TidarStepLayout.FirstStep(prompt, lastStart, k, mask);
            int last = p - lastStart - 1;
            var outputs = new int[k + 1];
            outputs[0] = last;
            for (int c = 0; c < k; c++) outputs[c + 1] = last + 1 + c;
            var o = model.Forward(cache, first, outputs, logits: NeedLogits, argmax: !NeedLogits);
            // k = 0 (a policy that wants no drafts yet): d_0 alone.
            return NextDrafts(o, arRow: 0, replacement: null, blockRow0: k > 0 ? 1 : null, Math.Max(1, k));
        }

        /// <summary>
        /// One step over drafts[0..v-1] (drafts[0] = d_0 is certain). Returns how many were accepted and
        /// the next drafts (d_0 first; only d_0 when the plan kept no block for what happened).
        /// </summary>
        public (int Accepted, int[] Next) Step(int length, int[] drafts, StepPlan plan)
        {
            int v = plan.Verify, k = plan.BlockSize;
            var rows = TidarStepLayout.Step(length, drafts.AsSpan(0, v).ToArray(), plan.Blocks, k, mask);
            var outputs = Enumerable.Range(0, rows.Length).ToArray();
            var o = model.Forward(cache, rows, outputs, logits: NeedLogits, argmax: !NeedLogits);

            int a = 1;
            int? replacement = null;
            for (; a < v; a++)
            {
                var verdict = Verify(o, a, drafts[a]);
                if (verdict.Accept) continue;
                replacement = verdict.Replacement;
                break;
            }
            int b = Array.IndexOf(plan.Blocks, a);
            int? blockRow0 = b < 0 ? null : TidarStepLayout.BlockRow(v, k, b, 0);
            return (a, NextDrafts(o, arRow: a - 1, replacement, blockRow0, b < 0 ? 1 : k));
        }

        /// <summary>d_0 (the exact token after the accepted ones) and, from the kept block, drafts 1..count-1.</summary>
        private int[] NextDrafts(ForwardOutput o, int arRow, int? replacement, int? blockRow0, int count)
        {
            var next = new int[count];
            next[0] = replacement ?? Choose(o, arRow, blockRow0);
            _q = new double[count][];
            _diffLogits = new float[count][];
            for (int c = 1; c < count; c++) next[c] = Propose(o, blockRow0!.Value + c, c);
            return next;
        }

        private float[] Row(ForwardOutput o, int row) => o.Logits!.AsSpan(row * _vocab, _vocab).ToArray();

        /// <summary>The token at a position whose AR logits are at arRow (and diffusion logits, if drafted, at diffRow).</summary>
        private int Choose(ForwardOutput o, int arRow, int? diffRow)
        {
            if (_paper) return Sampler.Argmax(diffRow is int d ? Mix(Row(o, arRow), Row(o, d)) : Row(o, arRow));
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
                return Sampler.Argmax(_diffLogits[c]!);
            }
            _q[c] = Sampler.Distribution(Row(o, row), sampling);
            return _sampler.Draw(_q[c]!);
        }

        /// <summary>Whether draft i survives verify row i-1; on rejection, the token to use instead.</summary>
        private (bool Accept, int Replacement) Verify(ForwardOutput o, int i, int draft)
        {
            if (_paper)
            {
                int best = Sampler.Argmax(Mix(Row(o, i - 1), _diffLogits[i]!));
                return (best == draft, best);
            }
            if (_greedy)
            {
                int best = o.Argmax![i - 1].Token;
                return (best == draft, best);
            }
            // Speculative sampling: accept with probability min(1, p(d)/q(d)); else draw from max(0, p - q).
            var p = Sampler.Distribution(Row(o, i - 1), sampling);
            var q = _q[i]!;
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
