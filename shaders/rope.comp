#version 450
// Rotary position embedding, in place on X [rows, heads, head_dim], each row at its own position
// (positions [rows], int). The first n_rot dims of each head rotate in pairs:
//   MODE 0 "norm" (llama.cpp's LLAMA layout): pairs (2i, 2i+1)
//   MODE 1 "neox" (Qwen, HF rotate_half):     pairs (i, i + n_rot/2)
// angle = pos * base^(-2i/n_rot). One invocation per (row, head, pair).
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint MODE = 1;
layout(binding = 0) buffer Xv { float x[]; };
layout(binding = 1) readonly buffer Pos { int pos[]; };
layout(push_constant) uniform Push { uint rows; uint heads; uint head_dim; uint n_rot; float base; } p;

void main() {
    uint half_rot = p.n_rot / 2;
    uint i = group_index_xy() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (i >= p.rows * p.heads * half_rot) return;
    uint pair = i % half_rot;
    uint rh = i / half_rot;            // row * heads + head
    uint r = rh / p.heads;
    uint base = rh * p.head_dim;
    uint i0 = MODE == 1 ? pair : 2 * pair;
    uint i1 = MODE == 1 ? pair + half_rot : 2 * pair + 1;
    // Frequency as exp2 of a product: accurate in fp32 and cheaper than pow.
    float inv_freq = exp2(-2.0 * float(pair) / float(p.n_rot) * log2(p.base));
    float angle = float(pos[r]) * inv_freq;
    float c = cos(angle), s = sin(angle);
    float x0 = x[base + i0], x1 = x[base + i1];
    x[base + i0] = x0 * c - x1 * s;
    x[base + i1] = x0 * s + x1 * c;
}
