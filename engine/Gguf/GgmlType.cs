namespace TiDAR.Engine.Gguf;

/// <summary>
/// ggml's tensor element encodings, with ggml's numeric ids (the values stored in GGUF tensor infos).
/// Ids 4, 5 (Q4_2, Q4_3), 31-33 (Q4_0_4_4 ...) and 36-38 (IQ4_NL_4_4 ...) were removed from ggml and
/// are not valid in GGUF files.
/// </summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
    TQ1_0 = 34,
    TQ2_0 = 35,
    MXFP4 = 39,
    NVFP4 = 40,
    Q1_0 = 41,
}

/// <summary>Block geometry of each <see cref="GgmlType"/> (ggml's type traits: blck_size and type_size).</summary>
public static class GgmlTypeInfo
{
    // Indexed by type id; 0 block size marks an id that is not a (current) ggml type.
    // Sizes from ggml-common.h: e.g. block_q4_0 = fp16 d + 16 bytes of nibbles = 18 bytes per 32 values,
    // block_q6_K = ql[128] + qh[64] + scales[16] + fp16 d = 210 bytes per 256 values.
    private static readonly (int Elements, int Bytes)[] Blocks = BuildTable();

    private static (int, int)[] BuildTable()
    {
        var t = new (int, int)[42];
        void Set(GgmlType type, int elements, int bytes) => t[(int)type] = (elements, bytes);
        Set(GgmlType.F32, 1, 4);
        Set(GgmlType.F16, 1, 2);
        Set(GgmlType.Q4_0, 32, 18);
        Set(GgmlType.Q4_1, 32, 20);
        Set(GgmlType.Q5_0, 32, 22);
        Set(GgmlType.Q5_1, 32, 24);
        Set(GgmlType.Q8_0, 32, 34);
        Set(GgmlType.Q8_1, 32, 36);
        Set(GgmlType.Q2_K, 256, 84);
        Set(GgmlType.Q3_K, 256, 110);
        Set(GgmlType.Q4_K, 256, 144);
        Set(GgmlType.Q5_K, 256, 176);
        Set(GgmlType.Q6_K, 256, 210);
        Set(GgmlType.Q8_K, 256, 292);
        Set(GgmlType.IQ2_XXS, 256, 66);
        Set(GgmlType.IQ2_XS, 256, 74);
        Set(GgmlType.IQ3_XXS, 256, 98);
        Set(GgmlType.IQ1_S, 256, 50);
        Set(GgmlType.IQ4_NL, 32, 18);
        Set(GgmlType.IQ3_S, 256, 110);
        Set(GgmlType.IQ2_S, 256, 82);
        Set(GgmlType.IQ4_XS, 256, 136);
        Set(GgmlType.I8, 1, 1);
        Set(GgmlType.I16, 1, 2);
        Set(GgmlType.I32, 1, 4);
        Set(GgmlType.I64, 1, 8);
        Set(GgmlType.F64, 1, 8);
        Set(GgmlType.IQ1_M, 256, 56);
        Set(GgmlType.BF16, 1, 2);
        Set(GgmlType.TQ1_0, 256, 54);
        Set(GgmlType.TQ2_0, 256, 66);
        Set(GgmlType.MXFP4, 32, 17);
        Set(GgmlType.NVFP4, 64, 36);
        Set(GgmlType.Q1_0, 128, 18);
        return t;
    }

    /// <summary>Whether <paramref name="id"/> is a ggml type id this code knows the block geometry of.</summary>
    public static bool IsKnown(uint id) => id < (uint)Blocks.Length && Blocks[id].Elements != 0;

    /// <summary>Elements per block: 1 for plain types (F32, F16, BF16, I8...), 32 for Q8_0/Q4_0, 256 for K-quants.</summary>
    public static int BlockSize(this GgmlType t) => Entry(t).Elements;

    /// <summary>Bytes per block (Q8_0: 34 = fp16 scale + 32 int8; Q4_0: 18).</summary>
    public static int BlockBytes(this GgmlType t) => Entry(t).Bytes;

    /// <summary>Bytes in a row of <paramref name="ne0"/> elements; throws <see cref="GgufFormatException"/> when
    /// <paramref name="ne0"/> is not a whole number of blocks or the size overflows.</summary>
    public static ulong RowBytes(this GgmlType t, ulong ne0)
    {
        var (elements, bytes) = Entry(t);
        if (ne0 % (ulong)elements != 0)
            throw new GgufFormatException($"a row of {ne0} elements is not a whole number of {t} blocks ({elements} elements each)");
        ulong blocks = ne0 / (ulong)elements;
        if (blocks > ulong.MaxValue / (ulong)bytes)
            throw new GgufFormatException($"a row of {ne0} {t} elements has a byte size that overflows 64 bits");
        return blocks * (ulong)bytes;
    }

    /// <summary>Whether the type packs several elements with shared scales into a block.</summary>
    public static bool IsQuantized(this GgmlType t) => Entry(t).Elements > 1;

    private static (int Elements, int Bytes) Entry(GgmlType t)
    {
        if (!IsKnown((uint)t))
            throw new GgufFormatException($"{(uint)t} is not a known ggml type id");
        return Blocks[(uint)t];
    }
}
