#version 450
// Grouped-query attention with per-row visibility, laid out for CPU drivers: the lanes of a workgroup
// split the keys (lane l takes keys l, l+WG, ...), each keeping its own online-softmax state (running max,
// running sum, accumulator over the head), and the lanes' states merge once at the end. No reduction per
// key, and the query is the same in every lane (uniform loads). Same bindings, push constants and
// result as attention.comp:
//   Q   [rows, n_heads, HD]            fp32
//   KC  [capacity, n_kv_heads, HD]     fp32 or fp16 (KV_F16), already holding this step's K
//   VC  [capacity, n_kv_heads, HD]     same
//   VIS [rows] uvec4 (a, b, e, -): row r sees key slots [0, a) U [b, e)   (DESIGN.md section 2)
//   OUT [rows, n_heads, HD]            fp32
// One workgroup per (head, row); HD % 4 == 0. A row that sees no key outputs zeros.
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HD = 64;
layout(constant_id = 2) const uint KV_F16 = 0;
const uint WG = gl_WorkGroupSize.x;
const uint H4 = HD / 4;

layout(binding = 0) readonly buffer Qv { vec4 q_in[]; };
layout(binding = 1) readonly buffer Kc32 { vec4 kc32[]; };
layout(binding = 1) readonly buffer Kc16 { uvec2 kc16[]; };
layout(binding = 2) readonly buffer Vc32 { vec4 vc32[]; };
layout(binding = 2) readonly buffer Vc16 { uvec2 vc16[]; };
layout(binding = 3) readonly buffer Vis { uvec4 vis[]; };
layout(binding = 4) writeonly buffer Ov { vec4 o[]; };
layout(push_constant) uniform Push { uint rows; uint n_heads; uint n_kv_heads; float scale; } p;

vec4 load_k(uint i4) { return KV_F16 == 1 ? vec4(unpackHalf2x16(kc16[i4].x), unpackHalf2x16(kc16[i4].y)) : kc32[i4]; }
vec4 load_v(uint i4) { return KV_F16 == 1 ? vec4(unpackHalf2x16(vc16[i4].x), unpackHalf2x16(vc16[i4].y)) : vc32[i4]; }

void main() {
    const uint lane = gl_LocalInvocationID.x;
    const uint head = gl_WorkGroupID.x;
    const uint r = gl_WorkGroupID.y;
    if (r >= p.rows) return;
    const uint kvh = head / (p.n_heads / p.n_kv_heads);
    const uint kv_dim4 = p.n_kv_heads * H4;
    const uint qbase = (r * p.n_heads + head) * H4;

    vec4 q[H4], acc[H4];
    for (uint d = 0; d < H4; d++) {
        q[d] = q_in[qbase + d] * p.scale;
        acc[d] = vec4(0.0);
    }
    float m = -1e30, l = 0.0;
    const uvec4 v = vis[r];
    for (uint seg = 0; seg < 2; seg++) {
        const uint start = seg == 0 ? 0 : v.y;
        const uint end = seg == 0 ? v.x : v.z;
        for (uint j = start + lane; j < end; j += WG) {
            const uint kbase = j * kv_dim4 + kvh * H4;
            float s = 0.0;
            for (uint d = 0; d < H4; d++) s += dot(q[d], load_k(kbase + d));
            const float m_new = max(m, s);
            const float corr = exp(m - m_new);
            const float pj = exp(s - m_new);
            l = l * corr + pj;
            for (uint d = 0; d < H4; d++) acc[d] = acc[d] * corr + pj * load_v(kbase + d);
            m = m_new;
        }
    }

    // Merge: rescale each lane's state to the workgroup's max, then sum.
    const float mx = wg_max(m);
    const float f = l > 0.0 ? exp(m - mx) : 0.0;
    const float total = wg_sum(l * f);
    const float inv = total > 0.0 ? 1.0 / total : 0.0;
    for (uint d = 0; d < H4; d++) {
        vec4 s = vec4(wg_sum(acc[d].x * f), wg_sum(acc[d].y * f), wg_sum(acc[d].z * f), wg_sum(acc[d].w * f));
        if (lane == 0) o[qbase + d] = s * inv;
    }
}
