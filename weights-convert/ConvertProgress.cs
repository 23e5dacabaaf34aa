namespace TiDAR.WeightsConvert;

/// <summary>Where a conversion is: <see cref="TensorIndex"/> (0-based) of <see cref="TensorCount"/>, output bytes
/// done of the total, and an optional note (e.g. a q8_0 fallback).</summary>
public sealed record ConvertProgress(int TensorIndex, int TensorCount, string TensorName, long BytesDone, long BytesTotal, string? Message = null);
