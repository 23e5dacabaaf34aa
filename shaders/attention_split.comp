#version 450
// First pass of attention split over the keys, for GPUs (flash-decoding): one workgroup per (head, row,
// key chunk) instead of per (head, row), so a decode step of a few rows still fills the device. Lanes split
// the chunk's keys as in attention_keys.comp; the workgroup writes its chunk's partial result, which
// attention_merge.comp combines:
//   Q   [rows, n_heads, HD]                 fp32
//   KC  [capacity, n_kv_heads, HD]          fp32 or fp16 (KV_F16); VC the same
//   VIS [rows] uvec4 (a, b, e, -): row r sees key slots [0, a) U [b, e)
//   PART [rows, n_heads, chunks, HD + 2]    fp32: sum_j exp(s_j - m) v_j over the chunk's visible keys, then
//                                           m (the chunk's max score; -1e30 when it sees none) and l = sum_j exp(s_j - m)
// Chunk c covers slots [c * chunk, (c + 1) * chunk): the split depends on the cache only, never on the
// rows of a step, so every row's result is the same whatever else the step holds (batch invariance).
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
layout(binding = 4) writeonly buffer Part { float part[]; };
layout(push_constant) uniform Push { uint rows; uint n_heads; uint n_kv_heads; float scale; uint chunk; uint chunks; } p;

vec4 load_k(uint i4) { return KV_F16 == 1 ? vec4(unpackHalf2x16(kc16[i4].x), unpackHalf2x16(kc16[i4].y)) : kc32[i4]; }
vec4 load_v(uint i4) { return KV_F16 == 1 ? vec4(unpackHalf2x16(vc16[i4].x), unpackHalf2x16(vc16[i4].y)) : vc32[i4]; }

void main() {
    const uint lane = gl_LocalInvocationID.x;
    const uint head = gl_WorkGroupID.x, r = gl_WorkGroupID.y, c = gl_WorkGroupID.z;
    if (r >= p.rows) return;
    const uint kvh = head / (p.n_heads / p.n_kv_heads);
    const uint kv_dim4 = p.n_kv_heads * H4;
    const uint qbase = (r * p.n_heads + head) * H4;
    const uint lo = c * p.chunk, hi = lo + p.chunk;

    vec4 q[H4], acc[H4];
    for (uint d = 0; d < H4; d++) {
        q[d] = q_in[qbase + d] * p.scale;
        acc[d] = vec4(0.0);
    }
    float m = -1e30, l = 0.0;
    const uvec4 v = vis[r];
    for (uint seg = 0; seg < 2; seg++) {
        const uint start = max(seg == 0 ? 0 : v.y, lo);
        const uint end = min(seg == 0 ? v.x : v.z, hi);
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

    const float mx = wg_max(m);
    const float f = l > 0.0 ? exp(m - mx) : 0.0;
    const float total = wg_sum(l * f);
    const uint out_base = ((r * p.n_heads + head) * p.chunks + c) * (HD + 2);
    for (uint d = 0; d < H4; d++) {
        vec4 s = vec4(wg_sum(acc[d].x * f), wg_sum(acc[d].y * f), wg_sum(acc[d].z * f), wg_sum(acc[d].w * f));
        if (lane == 0) {
            part[out_base + 4 * d] = s.x; part[out_base + 4 * d + 1] = s.y;
            part[out_base + 4 * d + 2] = s.z; part[out_base + 4 * d + 3] = s.w;
        }
    }
    if (lane == 0) {
        part[out_base + HD] = total > 0.0 ? mx : -1e30;
        part[out_base + HD + 1] = total;
    }
}
