using System.Text.Json;
using System.Text.Json.Serialization;

namespace TiDAR.Trainer.Model;

/// <summary>Hyperparameters of the Qwen3-layout decoder the trainer builds (mirrors HF Qwen3 config.json).</summary>
public sealed record TidarConfig
{
    public int VocabSize { get; init; } = 4096;
    public int Dim { get; init; } = 256;
    public int Layers { get; init; } = 6;
    public int Heads { get; init; } = 4;
    public int KvHeads { get; init; } = 2;
    public int HeadDim { get; init; } = 64;
    public int FfnDim { get; init; } = 768;
    public double RmsEps { get; init; } = 1e-6;
    public double RopeTheta { get; init; } = 10000.0;
    public int MaxPositions { get; init; } = 2048;
    public int MaskTokenId { get; init; }
    public int EosTokenId { get; init; }
    public int BlockSize { get; init; } = 4;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    public string ToJson() => JsonSerializer.Serialize(this, Json);
    public static TidarConfig FromJson(string json) => JsonSerializer.Deserialize<TidarConfig>(json, Json)!;
}
