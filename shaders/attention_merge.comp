#version 450
// Second pass of split attention (attention_keys.comp with SPLIT 1): each (head, row) combines its chunks' partial
// results in chunk order, OUT = sum_c exp(m_c - M) acc_c / sum_c exp(m_c - M) l_c with M = max_c m_c.
//   PART [rows, n_heads, chunks, HD + 2] fp32 (acc[HD], m, l)     OUT [rows, n_heads, HD] fp32
// Lanes own head dims; a row that sees no key gets zeros.
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HD = 64;
layout(binding = 0) readonly buffer Part { float part[]; };
layout(binding = 1) writeonly buffer Ov { float o[]; };
layout(push_constant) uniform Push { uint rows; uint n_heads; uint chunks; } p;

void main() {
    const uint head = gl_WorkGroupID.x, r = gl_WorkGroupID.y;
    if (r >= p.rows) return;
    const uint base = (r * p.n_heads + head) * p.chunks * (HD + 2);
    float mx = -1e30;
    for (uint c = 0; c < p.chunks; c++) mx = max(mx, part[base + c * (HD + 2) + HD]);
    float total = 0.0;
    for (uint c = 0; c < p.chunks; c++) {
        const uint at = base + c * (HD + 2);
        if (part[at + HD + 1] > 0.0) total += exp(part[at + HD] - mx) * part[at + HD + 1];
    }
    const float inv = total > 0.0 ? 1.0 / total : 0.0;
    for (uint d = gl_LocalInvocationID.x; d < HD; d += gl_WorkGroupSize.x) {
        float s = 0.0;
        for (uint c = 0; c < p.chunks; c++) {
            const uint at = base + c * (HD + 2);
            if (part[at + HD + 1] > 0.0) s += exp(part[at + HD] - mx) * part[at + d];
        }
        o[(r * p.n_heads + head) * HD + d] = s * inv;
    }
}
