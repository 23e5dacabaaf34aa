// Weight matrix W [N, K] (row-major, K innermost, as GGUF stores it) bound at WEIGHT_BINDING in one of
// several encodings, chosen by the specialization constant W_TYPE. The aliased views are all 32-bit
// types, so fp16 and int8 need no 16/8-bit storage feature: values are unpacked from uints.
//   W_TYPE 0: fp32, row = K floats
//   W_TYPE 1: fp16, row = K halves
//   W_TYPE 8: q8_0 repacked per row for aligned loads: K int8 quants, then K/32 fp32 block scales
//             (row = K + K/8 bytes; value = scale[k/32] * q[k]); GGUF's 34-byte blocks are not 4-aligned.
layout(binding = WEIGHT_BINDING) readonly buffer WeightsF32x4 { vec4 w_f32x4[]; };
layout(binding = WEIGHT_BINDING) readonly buffer WeightsU32 { uint w_u32[]; };
layout(binding = WEIGHT_BINDING) readonly buffer WeightsF16x4 { uvec2 w_f16x4[]; };

// Words per row of the q8_0 layout.
uint q8_row_words(uint K) { return (K + K / 8) / 4; }

// Four consecutive weights of row `row`, columns 4*k4 .. 4*k4+3 (requires K % 4 == 0).
vec4 load_w4(uint row, uint k4, uint K) {
    if (W_TYPE == 1) {
        uvec2 h = w_f16x4[row * (K / 4) + k4];
        return vec4(unpackHalf2x16(h.x), unpackHalf2x16(h.y));
    }
    if (W_TYPE == 8) {
        uint base = row * q8_row_words(K);
        uint q = w_u32[base + k4];
        float d = uintBitsToFloat(w_u32[base + K / 4 + k4 / 8]);
        ivec4 v = ivec4(bitfieldExtract(int(q), 0, 8), bitfieldExtract(int(q), 8, 8),
                        bitfieldExtract(int(q), 16, 8), bitfieldExtract(int(q), 24, 8));
        return d * vec4(v);
    }
    return w_f32x4[row * (K / 4) + k4];
}

// One weight at (row, k).
float load_w(uint row, uint k, uint K) {
    if (W_TYPE == 1) {
        uint i = row * K + k;
        return unpackHalf2x16(w_u32[i >> 1])[i & 1];
    }
    if (W_TYPE == 8) {
        uint base = row * q8_row_words(K);
        int q = bitfieldExtract(int(w_u32[base + k / 4]), int(8 * (k & 3)), 8);
        return uintBitsToFloat(w_u32[base + K / 4 + k / 32]) * float(q);
    }
    return uintBitsToFloat(w_u32[row * K + k]);
}
