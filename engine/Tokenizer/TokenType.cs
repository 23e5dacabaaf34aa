namespace TiDAR.Engine.Tokenizer;

/// <summary>
/// The kind of a vocabulary entry, with llama.cpp's numbering (the values stored under
/// <c>tokenizer.ggml.token_type</c>, which follow SentencePiece's piece types).
/// </summary>
public enum TokenType
{
    /// <summary>Not set (llama.cpp treats it like <see cref="Normal"/>).</summary>
    Undefined = 0,
    /// <summary>Ordinary text piece produced by the BPE / SentencePiece model.</summary>
    Normal = 1,
    /// <summary>The unknown token (e.g. <c>&lt;unk&gt;</c>).</summary>
    Unknown = 2,
    /// <summary>Control / special token (BOS, EOS, <c>&lt;|im_start|&gt;</c>, ...): never produced from ordinary text.</summary>
    Control = 3,
    /// <summary>User-defined added token (e.g. Qwen3's <c>&lt;think&gt;</c>): matched verbatim in text, decoded as text.</summary>
    UserDefined = 4,
    /// <summary>Placeholder that is never produced nor printed (e.g. the <c>[PAD151669]</c> padding entries).</summary>
    Unused = 5,
    /// <summary>SentencePiece byte-fallback piece <c>&lt;0xXX&gt;</c>.</summary>
    Byte = 6,
}
