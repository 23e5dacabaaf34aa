#version 450
// Grouped-query attention with per-row visibility, lanes splitting the keys: lane l of a workgroup takes
// keys l, l+WG, ..., each lane keeping its own online-softmax state (running max, running sum, accumulator
// over the head), and the lanes' states merge once at the end. No reduction per key, and the query is the
// same in every lane (uniform loads).
//   Q   [rows, n_heads, HD]            fp32
//   KC  [capacity, n_kv_heads, HD]     fp32 or fp16 (KV_F16), already holding this step's K
//   VC  [capacity, n_kv_heads, HD]     same
//   VIS [rows] uvec4 (a, b, e, -): row r sees key slots [0, a) U [b, e)   (DESIGN.md section 2)
// SPLIT 0: one workgroup per (head, row), over all keys; writes
//   OUT [rows, n_heads, HD]            fp32 (zeros for a row that sees no key)
// SPLIT 1 (GPUs, flash-decoding): one workgroup per (head, row, key chunk), chunk c covering slots
// [c * chunk, (c + 1) * chunk), so a few rows still fill the device; writes its partial result
//   PART [rows, n_heads, chunks, HD + 2] fp32: sum_j exp(s_j - m) v_j over the chunk's visible keys, then
//        m (the chunk's max score; -1e30 when it sees none) and l = sum_j exp(s_j - m)
// which attention_merge.comp combines. The chunks depend on the cache only, never on the rows of a step,
// so each row's result is the same whatever else the step holds (batch invariance). HD % 4 == 0.
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HD = 64;
layout(constant_id = 2) const uint KV_F16 = 0;
layout(constant_id = 3) const uint SPLIT = 0;
const uint WG = gl_WorkGroupSize.x;
const uint H4 = HD / 4;

layout(binding = 0) readonly buffer Qv { vec4 q_in[]; };
layout(binding = 1) readonly buffer Kc32 { vec4 kc32[]; };
layout(binding = 1) readonly buffer Kc16 { uvec2 kc16[]; };
layout(binding = 2) readonly buffer Vc32 { vec4 vc32[]; };
layout(binding = 2) readonly buffer Vc16 { uvec2 vc16[]; };
layout(binding = 3) readonly buffer Vis { uvec4 vis[]; };
layout(binding = 4) writeonly buffer Ov { vec4 o[]; };        // OUT (SPLIT 0)
layout(binding = 4) writeonly buffer Part { float part[]; };  // PART (SPLIT 1)
// chunk, chunks: SPLIT 1 only.
layout(push_constant) uniform Push { uint rows; uint n_heads; uint n_kv_heads; float scale; uint chunk; uint chunks; } p;

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
    const uint c = SPLIT == 1 ? gl_WorkGroupID.z : 0;
    const uint lo = SPLIT == 1 ? c * p.chunk : 0;
    const uint hi = SPLIT == 1 ? lo + p.chunk : 0xFFFFFFFFu;

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

    // Merge: rescale each lane's state to the workgroup's max, then sum.
    const float mx = wg_max(m);
    const float f = l > 0.0 ? exp(m - mx) : 0.0;
    const float total = wg_sum(l * f);
    const float inv = SPLIT == 0 && total > 0.0 ? 1.0 / total : 1.0;
    const uint pbase = ((r * p.n_heads + head) * p.chunks + c) * (HD + 2);
    for (uint d = 0; d < H4; d++) {
        vec4 s = vec4(wg_sum(acc[d].x * f), wg_sum(acc[d].y * f), wg_sum(acc[d].z * f), wg_sum(acc[d].w * f));
        if (lane != 0) continue;
        if (SPLIT == 0) o[qbase + d] = total > 0.0 ? s * inv : vec4(0.0);
        else {
            part[pbase + 4 * d] = s.x; part[pbase + 4 * d + 1] = s.y;
            part[pbase + 4 * d + 2] = s.z; part[pbase + 4 * d + 3] = s.w;
        }
    }
    if (SPLIT == 1 && lane == 0) {
        part[pbase + HD] = total > 0.0 ? mx : -1e30;
        part[pbase + HD + 1] = total;
    }
}
