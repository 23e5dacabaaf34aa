using TiDAR.Engine.Generation;
using TiDAR.Engine.Model;
using TiDAR.Tests.Model;

namespace TiDAR.Tests.Generation;

/// <summary>--block auto: the planner's choices on known latency curves, and exactness under any step schedule.</summary>
[Collection("gpu")]
public sealed class AutoBlockTests(GpuFixture gpu)
{
    private static LatencyProfile Flat(double ms) => new([1, 2, 4, 8, 16, 32, 64, 128], Enumerable.Repeat(ms, 8).ToArray(), 128);
    private static LatencyProfile Linear(double msPerRow) => new([1, 128], [msPerRow, 128 * msPerRow], 128);

    [Fact]
    public void FreeSlotsAndGoodDraftsPickLargeBlocks()
    {
        var policy = new AutoBlockPolicy(Flat(10), maxRows: 128);
        for (int i = 0; i < 50; i++) policy.Observe(StepPlan.Full(4), 4);   // every draft accepted
        var plan = policy.Plan(available: 1);
        Assert.True(policy.Best.K >= 8, policy.Describe());
        Assert.Equal(policy.Best.K, plan.BlockSize);
        Assert.True(policy.Best.TokensPerSecond > 5 * 100, "expected several tokens per 10 ms forward");
    }

    [Fact]
    public void RowsThatCostAsMuchAsTheFirstMeanArWithoutProbes()
    {
        var policy = new AutoBlockPolicy(Linear(10), maxRows: 128);
        Assert.False(policy.DraftingCanPay);
        Assert.All(Enumerable.Range(0, 100), _ => Assert.True(policy.Plan(1).IsAr));
        Assert.Contains("not free", policy.Describe());
    }

    [Fact]
    public void RowCostFallsBackToAr()
    {
        // 1 ms per extra row on a 10 ms forward: drafting pays only with good drafts.
        var policy = new AutoBlockPolicy(new LatencyProfile([1, 128], [10, 137], 128), maxRows: 128);
        Assert.True(policy.DraftingCanPay);
        for (int i = 0; i < 20; i++) policy.Observe(StepPlan.Full(4), 1);  // drafts never accepted
        Assert.True(policy.Plan(available: 4).IsAr);
        Assert.Equal(0, policy.Best.K);
        Assert.Contains("ar", policy.Describe());
        // Still probes now and then so that better drafts would be noticed: after 16 AR steps, then 32.
        var probeSteps = Enumerable.Range(1, 48).Where(_ => !policy.Plan(1).IsAr).ToArray();
        Assert.Equal([16, 48], probeSteps);
        // The probe's drafts are then verified, so alpha moves with what they show.
        var verify = policy.Plan(available: 4);
        Assert.Equal(4, verify.Verify);
        Assert.Empty(verify.Blocks);
        double before = policy.Alpha;
        policy.Observe(verify, 4);
        Assert.True(policy.Alpha > before);
    }

    [Fact]
    public void UnlikelyOutcomesLoseTheirBlocksWhenRowsCost()
    {
        // Free up to 12 rows, expensive after: with alpha ~ 0.3, k = 3 keeps only the likeliest outcomes.
        var profile = new LatencyProfile([1, 12, 13, 128], [10, 10, 40, 400], 128);
        var policy = new AutoBlockPolicy(profile, maxRows: 128);
        for (int i = 0; i < 40; i++) policy.Observe(StepPlan.Full(3), i % 3 == 0 ? 2 : 1);
        Assert.True(policy.Best.K >= 2, policy.Describe());
        Assert.True(policy.Best.K + policy.Best.M * policy.Best.K <= 12, policy.Describe());
        Assert.Equal([1, 2, 3], AutoBlockPolicy.LikeliestOutcomes(3, 3, 0.3));
        Assert.Equal([1], AutoBlockPolicy.LikeliestOutcomes(3, 1, 0.3));
        Assert.Equal([3], AutoBlockPolicy.LikeliestOutcomes(3, 1, 0.9));
    }

    [Fact]
    public void ProbesGrowRarerWhileArKeepsWinning()
    {
        var policy = new AutoBlockPolicy(new LatencyProfile([1, 128], [10, 137], 128), maxRows: 128);
        for (int i = 0; i < 20; i++) policy.Observe(StepPlan.Full(4), 1);
        var gaps = new List<int>();
        int last = 0;
        for (int step = 1; step <= 2000; step++)
        {
            var plan = policy.Plan(1);
            if (plan.IsAr) continue;
            Assert.Equal(AutoBlockPolicy.MinK, plan.BlockSize);   // the cheapest drafting step
            gaps.Add(step - last);
            last = step;
            policy.Observe(policy.Plan(plan.BlockSize), 1);   // the probe's drafts are verified and rejected
        }
        Assert.Equal([16, 32, 64, 128, 256, 256], gaps.Take(6));
    }

    [Fact]
    public void AProbeWhoseDraftsHoldKeepsTheFirstProbeRate()
    {
        var policy = new AutoBlockPolicy(new LatencyProfile([1, 128], [10, 137], 128), maxRows: 128);
        for (int i = 0; i < 20; i++) policy.Observe(StepPlan.Full(4), 1);
        var probes = new List<int>();
        for (int step = 1; step <= 64; step++)
        {
            var plan = policy.Plan(1);
            if (plan.IsAr) continue;
            probes.Add(step);
            var verify = policy.Plan(plan.BlockSize);
            policy.Observe(verify, verify.Verify);   // every probe draft accepted
        }
        Assert.Equal([16, 32, 48, 64], probes.Take(4));
    }

    [Fact]
    public void ObservedStepTimesOverruleAProfileThatFlattersDrafting()
    {
        // The profile says rows are free and drafts are good: draft.
        var policy = new AutoBlockPolicy(Flat(10), maxRows: 128);
        for (int i = 0; i < 50; i++) policy.Observe(StepPlan.Full(4), 3);
        var plan = policy.Plan(available: 1);
        Assert.False(plan.IsAr, policy.Describe());
        // This session's steps say otherwise: a drafting step takes 10x an AR step.
        for (int i = 0; i < 5; i++)
        {
            policy.ObserveStepTime(StepPlan.Ar, 10);
            for (int k = 2; k <= 16; k++)
                for (int m = 1; m <= k; m++) policy.ObserveStepTime(new StepPlan(k, Enumerable.Range(1, m).ToArray(), k), 100);
        }
        Assert.True(policy.Plan(available: 1).IsAr, policy.Describe());
        Assert.Equal(10, policy.StepMs(1), 6);
        // Row counts never seen are priced from the profile, scaled by how observed steps compare to it.
        Assert.True(policy.StepMs(300) > 10);
    }

    [Fact]
    public void ANoisyOneRowPointDoesNotMakeExtraRowsLookFree()
    {
        // 1 row measured slower than 2 (noise): read through the envelope, 1 row costs what 2 do.
        var profile = new LatencyProfile([1, 2, 4, 8], [7, 4, 5, 9], 128);
        Assert.Equal(4, profile.At(1), 6);
        Assert.Equal(4, profile.At(2), 6);
        Assert.Equal(4.5, profile.At(3), 6);
        Assert.Equal(9, profile.At(8), 6);
        // k = 1 commits one token like AR and only adds a row: never chosen, even on such a profile.
        var policy = new AutoBlockPolicy(profile, maxRows: 72);
        for (int i = 0; i < 10; i++) policy.Observe(StepPlan.Full(2), 1);
        Assert.NotEqual(1, policy.Best.K);
        Assert.True(policy.Plan(1).IsAr, policy.Describe());
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    [InlineData(0.8)]
    [InlineData(0.97)]
    public void TheChosenPlanIsTheBestOfAllPlansByThroughput(double alpha)
    {
        // A profile with free rows up to 12, then linear: the planner's fast search must agree with Throughput.
        var policy = new AutoBlockPolicy(new LatencyProfile([1, 12, 13, 128], [10, 11, 30, 300], 128), maxRows: 128);
        int accepted = (int)Math.Round(alpha * 1000);
        for (int i = 0; i < accepted; i++) policy.Observe(StepPlan.Full(2), 2);
        for (int i = accepted; i < 1000; i++) policy.Observe(StepPlan.Full(2), 1);
        policy.Plan(1);
        double bestRate = policy.Throughput(0, 0, policy.Alpha);
        for (int k = AutoBlockPolicy.MinK; k <= 10; k++)
            for (int m = 1; m <= k; m++) bestRate = Math.Max(bestRate, policy.Throughput(k, m, policy.Alpha));
        Assert.Equal(bestRate, policy.Best.TokensPerSecond, 6);
        Assert.Equal(policy.Best.TokensPerSecond, policy.Throughput(policy.Best.K, policy.Best.M, policy.Alpha), 6);
    }

    [Fact]
    public void OnceDraftsAreKnownToFailTheFirstForwardDraftsNothing()
    {
        var policy = new AutoBlockPolicy(new LatencyProfile([1, 128], [10, 137], 128), maxRows: 128);
        Assert.Equal(AutoBlockPolicy.MinK, policy.FirstBlock);   // little measured yet: look at the drafts early
        for (int i = 0; i < 10; i++) policy.Observe(StepPlan.Full(4), 1);
        policy.Plan(1);
        Assert.Equal(0, policy.FirstBlock);
    }

    [Fact]
    public void AutoNeedsRoomForATwoDraftStep() =>
        Assert.Contains("k = 2", Assert.Throws<ArgumentException>(() => new AutoBlockPolicy(Flat(10), maxRows: 5)).Message);

    /// <summary>Plans at random: AR steps, partial blocks, changing k. Exactness must not depend on the schedule.</summary>
    private sealed class RandomPolicy(int seed) : IStepPolicy
    {
        private readonly Random _rng = new(seed);
        public int FirstBlock => seed % 2 == 0 ? 0 : 3;   // 0: a plain prefill, no drafts yet
        public StepPlan Plan(int available)
        {
            int v = _rng.Next(1, available + 1);
            if (_rng.Next(5) == 0) return StepPlan.Ar;
            int k = _rng.Next(1, 6);
            var blocks = Enumerable.Range(1, v).Where(_ => _rng.Next(3) > 0).ToArray();
            return new StepPlan(v, blocks, k);
        }
        public void Observe(StepPlan plan, int accepted) { }
        public string Describe() => "random";
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void AnyScheduleStaysTokenIdenticalToAr(int seed)
    {
        var config = TinyModels.Config(Architecture.Qwen3, 5, context: 200) with { MaskTokenId = 4 };
        var weights = TinyModels.Weights(config, seed + 10);
        using var model = new GpuModel(gpu.Device, config, weights, new GpuModelOptions { MaxRows = 40, MaxOutputRows = 40 });
        int[] prompt = [0, 1, 2, 3, 1];
        var options = new GenerationOptions { MaxTokens = 60 };
        using var arCache = model.CreateCache(100);
        var ar = new ArDecoder(model, arCache).Generate(prompt, options);
        using var cache = model.CreateCache(140);
        var td = new TidarDecoder(model, cache).Generate(prompt, options, new TidarOptions { Policy = new RandomPolicy(seed) });
        Assert.Equal(ar.Tokens, td.Tokens);
    }

    [Fact]
    public void AProfileStopsPastTheRowCountThatCostsTooMuch()
    {
        var config = TinyModels.Config(Architecture.Qwen3, 6, context: 200) with { MaskTokenId = 5 };
        using var model = new GpuModel(gpu.Device, config, TinyModels.Weights(config, 4), new GpuModelOptions { MaxRows = 30, MaxOutputRows = 30 });
        // Any forward costs more than 1e-9 of one row's: the curve ends at the first count past one row.
        var profile = LatencyProfile.Measure(model, [4, 1, 2, 8], context: 16, repeats: 2, stopAtRatio: 1e-9);
        Assert.Equal([1, 2], profile.Rows);
        Assert.Equal([1, 2, 4, 8], LatencyProfile.Measure(model, [8, 4, 2, 1, 2], context: 16, repeats: 1).Rows);
    }

    [Fact]
    public void AutoOnAMeasuredProfileIsExactAndReportsItsChoice()
    {
        var config = TinyModels.Config(Architecture.Llama, 6, context: 200) with { MaskTokenId = 5 };
        var weights = TinyModels.Weights(config, 3);
        using var model = new GpuModel(gpu.Device, config, weights, new GpuModelOptions { MaxRows = 30, MaxOutputRows = 30 });
        var profile = LatencyProfile.Measure(model, LatencyProfile.DefaultRowCounts(30), context: 16, repeats: 1);
        Assert.Equal(LatencyProfile.DefaultRowCounts(30), profile.Rows);
        Assert.All(profile.Milliseconds, ms => Assert.True(ms > 0));
        using var arCache = model.CreateCache(100);
        var ar = new ArDecoder(model, arCache).Generate([1, 2], new GenerationOptions { MaxTokens = 40 });
        using var cache = model.CreateCache(130);
        var td = new TidarDecoder(model, cache).Generate([1, 2], new GenerationOptions { MaxTokens = 40 }, new TidarOptions { AutoProfile = profile });
        Assert.Equal(ar.Tokens, td.Tokens);
        Assert.StartsWith("auto:", td.Stats.Plan);
    }

    [Fact]
    public void ProfilesSurviveADiskRoundTripAndBadFilesAreIgnored()
    {
        var dir = Directory.CreateTempSubdirectory("tidar-profile-").FullName;
        try
        {
            var path = Path.Combine(dir, "p.json");
            var p = new LatencyProfile([1, 2, 6], [1.5, 1.6, 2.5], 64);
            p.Save(path);
            var q = LatencyProfile.Load(path)!;
            Assert.Equal(p.Rows, q.Rows);
            Assert.Equal(p.Milliseconds, q.Milliseconds);
            Assert.Equal(2.05, q.At(4), 6);
            File.WriteAllText(path, "{\"Rows\":[1,1],\"Milliseconds\":[1,1],\"Context\":1}");
            Assert.Null(LatencyProfile.Load(path));
            File.WriteAllText(path, "garbage");
            Assert.Null(LatencyProfile.Load(path));
        }
        finally { Directory.Delete(dir, true); }
    }
}
