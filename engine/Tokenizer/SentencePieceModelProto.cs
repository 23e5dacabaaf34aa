using System.Buffers.Binary;
using System.Text;

namespace TiDAR.Engine.Tokenizer;

/// <summary>
/// Writes a minimal SentencePiece <c>ModelProto</c> (sentencepiece_model.proto) in memory from GGUF "llama"
/// tokenizer data, so Microsoft.ML.Tokenizers' <c>SentencePieceTokenizer.Create(Stream)</c> can load it without a
/// <c>.model</c> file: the pieces with scores and types, a BPE trainer spec (unk/bos/eos/pad ids, byte fallback) and
/// an identity normalizer spec (dummy prefix as <c>tokenizer.ggml.add_space_prefix</c>, whitespace escaping on,
/// no whitespace collapsing), which matches llama.cpp's SPM tokenizer.
/// </summary>
internal static class SentencePieceModelProto
{
    // Field numbers from sentencepiece_model.proto.
    private const int ModelPieces = 1, ModelTrainerSpec = 2, ModelNormalizerSpec = 3;
    private const int PiecePiece = 1, PieceScore = 2, PieceType = 3;
    private const int TrainerModelType = 3, TrainerVocabSize = 4, TrainerByteFallback = 35,
        TrainerUnkId = 40, TrainerBosId = 41, TrainerEosId = 42, TrainerPadId = 43;
    private const int NormalizerName = 1, NormalizerAddDummyPrefix = 3, NormalizerRemoveExtraWhitespaces = 4, NormalizerEscapeWhitespaces = 5;
    private const int ModelTypeBpe = 2;

    public static byte[] Build(TokenizerData data, int unkId)
    {
        var model = new MemoryStream();
        var piece = new MemoryStream();
        bool hasBytes = false;
        for (int i = 0; i < data.Tokens.Count; i++)
        {
            var type = data.TokenTypes[i];
            hasBytes |= type == TokenType.Byte;
            piece.SetLength(0);
            WriteBytes(piece, PiecePiece, Encoding.UTF8.GetBytes(data.Tokens[i]));
            WriteFloat(piece, PieceScore, data.Scores![i]);
            // SentencePiece has no "undefined" type; llama.cpp reads it as normal.
            WriteVarintField(piece, PieceType, type == TokenType.Undefined ? (int)TokenType.Normal : (int)type);
            WriteBytes(model, ModelPieces, piece.ToArray());
        }

        var trainer = new MemoryStream();
        WriteVarintField(trainer, TrainerModelType, ModelTypeBpe);
        WriteVarintField(trainer, TrainerVocabSize, data.Tokens.Count);
        WriteVarintField(trainer, TrainerByteFallback, hasBytes ? 1 : 0);
        WriteVarintField(trainer, TrainerUnkId, unkId);
        WriteVarintField(trainer, TrainerBosId, data.BosId ?? -1);
        WriteVarintField(trainer, TrainerEosId, data.EosId ?? -1);
        WriteVarintField(trainer, TrainerPadId, data.PadId ?? -1);
        WriteBytes(model, ModelTrainerSpec, trainer.ToArray());

        var normalizer = new MemoryStream();
        WriteBytes(normalizer, NormalizerName, "identity"u8.ToArray());
        WriteVarintField(normalizer, NormalizerAddDummyPrefix, data.AddSpacePrefix ?? true ? 1 : 0);
        WriteVarintField(normalizer, NormalizerRemoveExtraWhitespaces, 0);
        WriteVarintField(normalizer, NormalizerEscapeWhitespaces, 1);
        WriteBytes(model, ModelNormalizerSpec, normalizer.ToArray());
        return model.ToArray();
    }

    private static void WriteVarint(Stream s, ulong v)
    {
        while (v >= 0x80)
        {
            s.WriteByte((byte)(v | 0x80));
            v >>= 7;
        }
        s.WriteByte((byte)v);
    }

    private static void WriteTag(Stream s, int field, int wireType) => WriteVarint(s, (ulong)((field << 3) | wireType));

    // int32 fields: negative values are sign-extended to 64 bits (10-byte varint), as protobuf requires.
    private static void WriteVarintField(Stream s, int field, int value)
    {
        WriteTag(s, field, 0);
        WriteVarint(s, unchecked((ulong)(long)value));
    }

    private static void WriteFloat(Stream s, int field, float value)
    {
        WriteTag(s, field, 5);
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(b, value);
        s.Write(b);
    }

    private static void WriteBytes(Stream s, int field, byte[] bytes)
    {
        WriteTag(s, field, 2);
        WriteVarint(s, (ulong)bytes.Length);
        s.Write(bytes);
    }
}
