#version 450
// OUT[r, :] = TABLE[ids[r], :]. TABLE [vocab, dim] in fp32 or fp16, OUT [rows, dim] fp32.
// One invocation per output element; ids past the vocabulary are clamped (the host rejects them
// before this point; the clamp only keeps a bad id from reading out of bounds).
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint W_TYPE = 0;  // 0 fp32, 1 fp16, 8 q8_0 (weights.glsl)

#define WEIGHT_BINDING 0
#include "weights.glsl"
layout(binding = 1) readonly buffer Ids { uint ids[]; };    // [rows]
layout(binding = 2) writeonly buffer Out { float o[]; };    // [rows, dim]
layout(push_constant) uniform Push { uint rows; uint dim; uint vocab; } p;

void main() {
    uint i = group_index_xy() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (i >= p.rows * p.dim) return;
    uint r = i / p.dim, c = i - r * p.dim;
    uint id = min(ids[r], p.vocab - 1);
    o[i] = load_w(id, c, p.dim);
}
