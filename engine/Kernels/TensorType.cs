namespace TiDAR.Engine.Kernels;

/// <summary>Element encodings of weight tensors; values are ggml's type ids, as in GGUF files.</summary>
public enum TensorType : uint
{
    F32 = 0,
    F16 = 1,
}

public static class TensorTypeInfo
{
    public static int BytesPerElement(this TensorType t) => t switch
    {
        TensorType.F32 => 4,
        TensorType.F16 => 2,
        _ => throw new NotSupportedException($"Tensor type {t} is not supported."),
    };

    /// <summary>The shaders' W_TYPE specialization constant.</summary>
    internal static uint ShaderCode(this TensorType t) => t switch
    {
        TensorType.F32 => 0,
        TensorType.F16 => 1,
        _ => throw new NotSupportedException($"Tensor type {t} has no kernel yet."),
    };
}
