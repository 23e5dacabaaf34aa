#version 450
// Writes each row's new keys and values into the cache at that row's slot:
//   KC[slot[r], :] = KNEW[r, :], VC[slot[r], :] = VNEW[r, :]
// KNEW, VNEW [rows, kv_dim] fp32 (kv_dim = n_kv_heads * head_dim, even); KC, VC [capacity, kv_dim]
// in fp32 or fp16 (KV_F16). One invocation per pair of values; slots past capacity are skipped.
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint KV_F16 = 0;
layout(binding = 0) readonly buffer Kn { vec2 knew[]; };
layout(binding = 1) readonly buffer Vn { vec2 vnew[]; };
layout(binding = 2) readonly buffer Slots { uint slot[]; };
layout(binding = 3) writeonly buffer Kc32 { vec2 kc32[]; };
layout(binding = 3) writeonly buffer Kc16 { uint kc16[]; };
layout(binding = 4) writeonly buffer Vc32 { vec2 vc32[]; };
layout(binding = 4) writeonly buffer Vc16 { uint vc16[]; };
layout(push_constant) uniform Push { uint rows; uint kv_dim; uint capacity; } p;

void main() {
    uint half_dim = p.kv_dim / 2;
    uint i = group_index_xy() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (i >= p.rows * half_dim) return;
    uint r = i / half_dim, c = i - r * half_dim;
    uint s = slot[r];
    if (s >= p.capacity) return;
    uint dst = s * half_dim + c;
    if (KV_F16 == 1) {
        kc16[dst] = packHalf2x16(knew[i]);
        vc16[dst] = packHalf2x16(vnew[i]);
    } else {
        kc32[dst] = knew[i];
        vc32[dst] = vnew[i];
    }
}
