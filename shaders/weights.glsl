// Weight matrix W [N, K] (row-major, K innermost, as GGUF stores it) bound at WEIGHT_BINDING in one of
// several encodings, chosen by the specialization constant W_TYPE. The aliased views are all 32-bit
// types, so fp16 needs no 16-bit storage feature: halves are unpacked from uints.
//   W_TYPE 0: fp32    W_TYPE 1: fp16
layout(binding = WEIGHT_BINDING) readonly buffer WeightsF32x4 { vec4 w_f32x4[]; };
layout(binding = WEIGHT_BINDING) readonly buffer WeightsF32 { float w_f32[]; };
layout(binding = WEIGHT_BINDING) readonly buffer WeightsF16x4 { uvec2 w_f16x4[]; };
layout(binding = WEIGHT_BINDING) readonly buffer WeightsF16x2 { uint w_f16x2[]; };

// Four consecutive weights starting at element 4*i4 (rows must start on a multiple of 4).
vec4 load_w4(uint i4) {
    if (W_TYPE == 1) {
        uvec2 h = w_f16x4[i4];
        return vec4(unpackHalf2x16(h.x), unpackHalf2x16(h.y));
    }
    return w_f32x4[i4];
}

// One weight at element i.
float load_w(uint i) {
    if (W_TYPE == 1) return unpackHalf2x16(w_f16x2[i >> 1])[i & 1];
    return w_f32[i];
}
