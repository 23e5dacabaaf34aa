namespace TiDAR.Engine.Model;

/// <summary>llama.cpp's GGUF tensor names, which our converter writes and our loader reads.</summary>
public static class TensorNames
{
    public const string TokenEmbedding = "token_embd.weight";
    public const string OutputNorm = "output_norm.weight";
    public const string Output = "output.weight";

    public static string AttnNorm(int l) => $"blk.{l}.attn_norm.weight";
    public static string Q(int l) => $"blk.{l}.attn_q.weight";
    public static string K(int l) => $"blk.{l}.attn_k.weight";
    public static string V(int l) => $"blk.{l}.attn_v.weight";
    public static string QBias(int l) => $"blk.{l}.attn_q.bias";
    public static string KBias(int l) => $"blk.{l}.attn_k.bias";
    public static string VBias(int l) => $"blk.{l}.attn_v.bias";
    public static string QNorm(int l) => $"blk.{l}.attn_q_norm.weight";
    public static string KNorm(int l) => $"blk.{l}.attn_k_norm.weight";
    public static string AttnOutput(int l) => $"blk.{l}.attn_output.weight";
    public static string FfnNorm(int l) => $"blk.{l}.ffn_norm.weight";
    public static string Gate(int l) => $"blk.{l}.ffn_gate.weight";
    public static string Up(int l) => $"blk.{l}.ffn_up.weight";
    public static string Down(int l) => $"blk.{l}.ffn_down.weight";
}
