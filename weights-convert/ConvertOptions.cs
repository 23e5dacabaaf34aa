namespace TiDAR.WeightsConvert;

public sealed record ConvertOptions
{
    /// <summary>Encoding of the 2-D weight matrices; q8_0 falls back to f16 for matrices whose rows are not a
    /// multiple of 32 elements (the conversion's warnings say which).</summary>
    public OutputType OutputType { get; init; } = OutputType.F16;
    /// <summary>Writes tidar.mask_token_id; overrides config.json's mask_token_id.</summary>
    public int? MaskTokenId { get; init; }
    /// <summary>Writes tidar.block_size; overrides config.json's block_size.</summary>
    public int? BlockSize { get; init; }
    /// <summary>general.name; default: the checkpoint folder's name.</summary>
    public string? Name { get; init; }
    /// <summary>Elements converted per step: bounds the converter's working memory (one chunk, not one tensor).</summary>
    public int ChunkElements { get; init; } = 1 << 20;
}
