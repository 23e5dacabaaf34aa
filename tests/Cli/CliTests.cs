using System.Text.Json;
using TiDAR.Engine.Gguf;
using TiDAR.Engine.Model;
using TiDAR.Tests.Model;

namespace TiDAR.Tests.Cli;

/// <summary>The `tidar` command line end to end, on tiny GGUF models written by the test.</summary>
[Collection("gpu")]
public sealed class CliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tidar-cli-").FullName;
    private readonly string _tidarModel, _plainModel;

    public CliTests()
    {
        var config = GgufModels.Config(Architecture.Qwen3) with { VocabSize = GgufModels.VocabSize };
        var weights = TinyModels.Weights(config, seed: 5);
        _tidarModel = Path.Combine(_dir, "tidar.gguf");
        GgufModels.Write(_tidarModel, config, weights, GgmlType.F16);
        _plainModel = Path.Combine(_dir, "plain.gguf");
        var plain = GgufModels.Config(Architecture.Llama, tidar: false);
        GgufModels.Write(_plainModel, plain, TinyModels.Weights(plain, seed: 6), GgmlType.Q8_0);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static JsonElement Json(CliRunner.Run r)
    {
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stderr}");
        return JsonDocument.Parse(r.Stdout).RootElement;
    }

    private static int[] Tokens(JsonElement e) => e.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();

    [Fact]
    public void TidarJsonEqualsArJsonAndReportsItsStats()
    {
        string[] common = ["generate", "--model", _tidarModel, "--json", "--prompt-tokens", "104,101,108,108", "--max-tokens", "24"];
        var ar = Json(CliRunner.Tidar([.. common, "--mode", "ar"]));
        var td = Json(CliRunner.Tidar([.. common, "--block", "3"]));   // tidar is the default for a model with a mask token
        Assert.Equal(Tokens(ar), Tokens(td));
        Assert.Equal(4, ar.GetProperty("prompt_tokens").GetInt32());
        var s = td.GetProperty("stats");
        Assert.Equal("tidar", s.GetProperty("mode").GetString());
        Assert.Equal(3, s.GetProperty("block").GetInt32());
        Assert.Equal(12, s.GetProperty("rows_per_forward").GetDouble());
        Assert.Equal(3, s.GetProperty("accepted_per_position").GetArrayLength());
        foreach (var key in new[] { "forwards", "tokens_per_forward", "tokens_per_second", "prefill_ms", "decode_ms" })
            Assert.True(s.TryGetProperty(key, out _), key);
        Assert.Equal("ar", ar.GetProperty("stats").GetProperty("mode").GetString());
    }

    [Fact]
    public void BlockAutoMeasuresOnceAndStaysExact()
    {
        var cacheHome = Path.Combine(_dir, "xdg");
        string[] common = ["generate", "--model", _tidarModel, "--json", "--prompt-tokens", "104,101", "--max-tokens", "20"];
        var ar = Json(CliRunner.Tidar([.. common, "--mode", "ar"]));
        var first = CliRunner.TidarWithEnv(new() { ["XDG_CACHE_HOME"] = cacheHome }, [.. common, "--block", "auto"]);
        Assert.Contains("Measuring forward latency", first.Stderr);
        var auto = Json(first);
        Assert.Equal(Tokens(ar), Tokens(auto));
        Assert.StartsWith("auto:", auto.GetProperty("stats").GetProperty("plan").GetString());
        Assert.Single(Directory.GetFiles(Path.Combine(cacheHome, "tidar", "profiles")));
        // auto is also the default for a model with a mask token: same cached profile, same tokens.
        var second = CliRunner.TidarWithEnv(new() { ["XDG_CACHE_HOME"] = cacheHome }, common);
        Assert.DoesNotContain("Measuring", second.Stderr);
        var byDefault = Json(second);
        Assert.Equal(Tokens(ar), Tokens(byDefault));
        Assert.StartsWith("auto:", byDefault.GetProperty("stats").GetProperty("plan").GetString());
    }

    [Fact]
    public void TextPromptsStreamAndTokenizeMatchesTheTokenizer()
    {
        var r = CliRunner.Tidar("generate", "--model", _tidarModel, "--max-tokens", "8", "hello world");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("tokens/forward", r.Stderr);
        var ids = CliRunner.Tidar("tokenize", "--model", _tidarModel, "hello world");
        Assert.Equal(0, ids.ExitCode);
        var expected = Engine.Tokenizer.TextTokenizer.FromGgufMetadata(GgufFile.Open(_tidarModel).Metadata).Encode("hello world");
        Assert.Equal("[" + string.Join(",", expected) + "]", ids.Stdout.Trim());
    }

    [Fact]
    public void PlainModelsRunArAndRefuseTidarWithAReason()
    {
        var ar = Json(CliRunner.Tidar("generate", "--model", _plainModel, "--json", "--max-tokens", "5", "hello"));
        Assert.Equal("ar", ar.GetProperty("stats").GetProperty("mode").GetString());
        var td = CliRunner.Tidar("generate", "--model", _plainModel, "--mode", "tidar", "hello");
        Assert.Equal(1, td.ExitCode);
        Assert.Contains("mask token", td.Stderr);
    }

    [Theory]
    [InlineData("missing-file", "does not exist")]
    [InlineData("block-zero", "--block must be >= 1")]
    [InlineData("beta", "beta must be in [0, 1]")]
    [InlineData("too-long", "context")]
    [InlineData("bad-ids", "not a token id")]
    [InlineData("id-range", "outside the vocabulary")]
    public void BadInputsGetOneClearLine(string what, string message)
    {
        string[] args = what switch
        {
            "missing-file" => ["generate", "--model", Path.Combine(_dir, "none.gguf"), "hi"],
            "block-zero" => ["generate", "--model", _tidarModel, "--block", "0", "hi"],
            "beta" => ["generate", "--model", _tidarModel, "--verify", "paper", "--beta", "2", "hi"],
            "too-long" => ["generate", "--model", _tidarModel, "--mode", "ar", "--context", "8", "--prompt-tokens", "1,2,3,4,5,6,7,8,9,10"],
            "bad-ids" => ["generate", "--model", _tidarModel, "--prompt-tokens", "1,x"],
            "id-range" => ["generate", "--model", _tidarModel, "--prompt-tokens", "1,99999"],
            _ => throw new ArgumentException(what),
        };
        var r = CliRunner.Tidar(args);
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error:", r.Stderr.Trim());
        Assert.Contains(message, r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr); // no stack trace
    }

    [Fact]
    public void CorruptModelFileIsReportedNotCrashedOn()
    {
        var bad = Path.Combine(_dir, "bad.gguf");
        var bytes = File.ReadAllBytes(_tidarModel);
        File.WriteAllBytes(bad, bytes.AsSpan(0, bytes.Length / 3).ToArray());
        var r = CliRunner.Tidar("generate", "--model", bad, "hi");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("error:", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [Fact]
    public void PerplexityOfATextFile()
    {
        var text = Path.Combine(_dir, "text.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("hello world, hello abc 123. ", 20)));
        var r = CliRunner.Tidar("perplexity", "--model", _tidarModel, "--context", "32", text);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Matches(@"perplexity: \d+\.\d+", r.Stdout);
    }

    [Fact]
    public void DevicesAndCheckWork()
    {
        var d = CliRunner.Tidar("devices");
        Assert.Equal(0, d.ExitCode);
        Assert.Contains("<- chosen", d.Stdout);
        Assert.Contains("subgroup size", d.Stdout);
        var c = CliRunner.Tidar("check", "--validation");
        Assert.True(c.ExitCode == 0, c.Stdout + c.Stderr);
        Assert.Contains("checks passed", c.Stdout);
        var bad = CliRunner.Tidar("check", "--device", "42");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("does not exist", bad.Stderr);
    }
}
