namespace TiDAR.Engine.Generation;

/// <summary>
/// What one TiDAR forward carries: how many drafts it verifies (v, d_0 included), which acceptance
/// outcomes get a pre-draft block (subset of 1..v) and the block size of those pre-drafts. v = 1 with no
/// blocks is a plain AR step.
/// </summary>
public sealed record StepPlan(int Verify, int[] Blocks, int BlockSize)
{
    public int Rows => Verify + Blocks.Length * BlockSize;
    public bool IsAr => Blocks.Length == 0;
    public static StepPlan Ar { get; } = new(1, [], 1);
    public static StepPlan Full(int k) => new(k, Enumerable.Range(1, k).ToArray(), k);
}

/// <summary>Chooses each step's plan.</summary>
public interface IStepPolicy
{
    /// <summary>Block size of the first forward's mask rows (0: a plain prefill, no drafts).</summary>
    int FirstBlock { get; }
    /// <summary>The plan for a step that holds <paramref name="available"/> drafts (d_0 included).</summary>
    StepPlan Plan(int available);
    /// <summary>Learns from a verified step: a of the plan's v drafts committed.</summary>
    void Observe(StepPlan plan, int accepted);
    /// <summary>Learns how long a step of this plan took, forward and host work together.</summary>
    void ObserveStepTime(StepPlan plan, double milliseconds) { }
    string Describe();
}

/// <summary>The paper's schedule: always k drafts and all k pre-draft blocks.</summary>
public sealed class FixedBlockPolicy(int k) : IStepPolicy
{
    public int FirstBlock => k;
    public StepPlan Plan(int available) => available >= k ? StepPlan.Full(k) : new StepPlan(available, Enumerable.Range(1, available).ToArray(), k);
    public void Observe(StepPlan plan, int accepted) { }
    public string Describe() => $"k={k}";
}

/// <summary>
/// --block auto: picks k and the pre-drafted outcomes to maximise expected tokens per second, from the
/// device's latency-vs-rows profile and the per-draft acceptance rate seen so far (Laplace-smoothed),
/// falling back to plain AR when drafting does not pay (with an occasional probe step to re-measure).
/// Model: each draft is accepted with probability alpha given its predecessors were, so a step of k
/// drafts commits a tokens with P(a) = alpha^(a-1)(1-alpha) (a &lt; k), alpha^(k-1) (a = k). Keeping blocks
/// only for the m likeliest outcomes costs a recovery step (1 + k rows, 1 token) when another happens.
/// Step costs come from the profile at first and from the session's own step times as they arrive (forward
/// plus host work, per row count), so a profile taken under other load, or host work the profile does not
/// see, cannot keep a losing plan in place. Probes while AR wins grow rarer (16, 32, ... 256 steps apart).
/// </summary>
public sealed class AutoBlockPolicy : IStepPolicy
{
    private readonly LatencyProfile _profile;
    private readonly int _maxK;
    // Prior alpha = 0.25 (1 of 4): start from AR unless the profile makes even modest drafts pay; a TiDAR-trained
    // model's drafts lift it within a few steps (the first forward pre-drafts, the first step verifies those).
    private double _accepted = 1, _trials = 4;
    private int _arSteps;
    private int _probeEvery = ProbeEvery;
    public const int ProbeEvery = 16;
    public const int MaxProbeEvery = 256;
    // Observed step time per row count (running mean over the last ~16 steps), and the mean ratio of
    // observed to profiled time over drafting (multi-row) steps, which scales the profile for drafting
    // row counts not observed yet. AR's cost is never scaled up: unobserved, it is the bare profiled
    // forward, which can only make AR look better than it is, never drafting.
    private readonly Dictionary<int, (double Ms, int Count)> _observed = new();
    private double _draftRatio = 1;
    private int _draftRatioCount;
    private const int Window = 16, Trusted = 3;
    /// <summary>
    /// Smallest k considered: a k = 1 step verifies only d_0, which is certain, so it commits one token like
    /// AR and only adds a row.
    /// </summary>
    public const int MinK = 2;

    public AutoBlockPolicy(LatencyProfile profile, int maxRows)
    {
        _profile = profile;
        _maxK = 1;
        while ((_maxK + 1) * (_maxK + 2) <= maxRows && _maxK < 16) _maxK++;
        if (_maxK < MinK) throw new ArgumentException($"--block auto needs room for a k = {MinK} step ({MinK * (MinK + 1)} rows); this model allows {maxRows} rows a forward.");
        Best = Choose(Alpha);
        DraftingCanPay = Choose(0.999).Item1 != 0;
    }

    /// <summary>False when even near-perfect drafts would lose to AR on this latency profile: then no probes either.</summary>
    public bool DraftingCanPay { get; }

    public double Alpha => _accepted / _trials;
    /// <summary>The latest choice: (k, kept blocks m), or k = 0 for AR; with its expected tokens/s.</summary>
    public (int K, int M, double TokensPerSecond) Best { get; private set; }

    /// <summary>
    /// Mask rows in the first forward: the chosen k; while AR is chosen, 2 (a cheap early look at the drafts)
    /// as long as little has been measured, else none (a session that learned its drafts fail stops paying for them).
    /// </summary>
    public int FirstBlock => Best.K != 0 ? Best.K : _trials < 8 ? MinK : 0;

    public StepPlan Plan(int available)
    {
        Best = Choose(Alpha);
        if (Best.K == 0)
        {
            // Drafts left by a probe get verified (no new blocks), which is what measures alpha.
            if (available > 1) return new StepPlan(available, [], 1);
            // AR pays best; every so often draft once more so alpha keeps being measured (unless no alpha could
            // pay), less often each time the drafts still fail. The probe is the cheapest drafting step (k = 2:
            // 3 rows, then 2 to verify).
            if (!DraftingCanPay || ++_arSteps < _probeEvery) return StepPlan.Ar;
            _arSteps = 0;
            _probeEvery = Math.Min(2 * _probeEvery, MaxProbeEvery);
            return new StepPlan(1, [1], MinK);
        }
        _probeEvery = ProbeEvery;
        int k = Best.K;
        if (available < k) return new StepPlan(available, Enumerable.Range(1, available).ToArray(), k);
        return new StepPlan(k, LikeliestOutcomes(k, Best.M, Alpha), k);
    }

    public void Observe(StepPlan plan, int accepted)
    {
        // Drafts 1..v-1 were compared in order until the first rejection.
        int compared = accepted < plan.Verify ? accepted : accepted - 1;
        _trials += compared;
        _accepted += accepted - 1;
        // A probe whose drafts all held: keep probing at the first rate, so good drafts are noticed soon.
        if (plan.Blocks.Length == 0 && plan.Verify > 1 && accepted == plan.Verify) _probeEvery = ProbeEvery;
    }

    public void ObserveStepTime(StepPlan plan, double milliseconds)
    {
        if (!(milliseconds > 0) || double.IsInfinity(milliseconds)) return;
        int rows = plan.Rows;
        var (mean, count) = _observed.GetValueOrDefault(rows);
        count = Math.Min(count + 1, Window);
        mean += (milliseconds - mean) / count;
        _observed[rows] = (mean, count);
        if (rows == 1) return;
        _draftRatioCount = Math.Min(_draftRatioCount + 1, Window);
        _draftRatio += (milliseconds / _profile.At(rows) - _draftRatio) / _draftRatioCount;
    }

    /// <summary>
    /// Expected time of a step of <paramref name="rows"/> rows: observed when seen often enough; else the
    /// profile, for drafting steps scaled by how drafting steps observed so far compare to it (never below it).
    /// </summary>
    public double StepMs(int rows)
    {
        if (_observed.TryGetValue(rows, out var o) && o.Count >= Trusted) return o.Ms;
        return rows == 1 ? _profile.At(1) : _profile.At(rows) * Math.Max(1, _draftRatio);
    }

    public string Describe() => Best.K == 0 ? (DraftingCanPay ? $"auto: ar (alpha {Alpha:F2})" : "auto: ar (rows are not free on this device)") : $"auto: k={Best.K}, {Best.M} of {Best.K} blocks (alpha {Alpha:F2})";

    public static double[] OutcomeProbabilities(int k, double alpha)
    {
        var p = new double[k];
        for (int a = 1; a <= k; a++) p[a - 1] = a < k ? Math.Pow(alpha, a - 1) * (1 - alpha) : Math.Pow(alpha, k - 1);
        return p;
    }

    public static int[] LikeliestOutcomes(int k, int m, double alpha)
    {
        var p = OutcomeProbabilities(k, alpha);
        return Enumerable.Range(1, k).OrderByDescending(a => p[a - 1]).ThenBy(a => a).Take(m).OrderBy(a => a).ToArray();
    }

    /// <summary>Expected tokens per second of plan (k, m) in steady state; k = 0 is AR.</summary>
    public double Throughput(int k, int m, double alpha)
    {
        if (k == 0) return 1000.0 / StepMs(1);
        var p = OutcomeProbabilities(k, alpha);
        double tokens = 0;
        for (int a = 1; a <= k; a++) tokens += a * p[a - 1];
        return Rate(k, m, tokens, LikeliestOutcomes(k, m, alpha).Sum(a => p[a - 1]));
    }

    /// <summary>
    /// Tokens/s of plan (k, m) given its expected tokens per step and the probability that the outcome has a
    /// block: a miss commits one token more (the recovery step's) and costs a recovery step (1 + k rows).
    /// </summary>
    private double Rate(int k, int m, double tokens, double kept)
    {
        double miss = Math.Max(0, 1 - kept);
        return 1000.0 * (tokens + miss) / (StepMs(k + m * k) + miss * StepMs(1 + k));
    }

    /// <summary>
    /// The best (k, m) at this alpha. The same arithmetic as <see cref="Throughput"/>, arranged so that a
    /// step's planning allocates nothing: per k, outcomes are sorted once and m grows the kept set.
    /// </summary>
    private (int, int, double) Choose(double alpha)
    {
        (int K, int M, double R) best = (0, 0, Throughput(0, 0, alpha));
        Span<double> p = stackalloc double[_maxK];
        Span<int> order = stackalloc int[_maxK];
        for (int k = MinK; k <= _maxK; k++)
        {
            double tokens = 0;
            for (int a = 1; a <= k; a++)
            {
                p[a - 1] = a < k ? Math.Pow(alpha, a - 1) * (1 - alpha) : Math.Pow(alpha, k - 1);
                tokens += a * p[a - 1];
                // Insertion by probability, descending, ties to the smaller outcome (as LikeliestOutcomes).
                int i = a - 1;
                while (i > 0 && p[order[i - 1] - 1] < p[a - 1]) { order[i] = order[i - 1]; i--; }
                order[i] = a;
            }
            double kept = 0;
            for (int m = 1; m <= k; m++)
            {
                kept += p[order[m - 1] - 1];
                double r = Rate(k, m, tokens, kept);
                if (r > best.R * 1.0001) best = (k, m, r);
            }
        }
        return best;
    }
}
