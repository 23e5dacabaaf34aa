#version 450
// Grouped-query attention of each query row over the KV cache, with per-row visibility.
//   Q   [rows, n_heads, HD]            fp32
//   KC  [capacity, n_kv_heads, HD]     fp32 or fp16 (KV_F16), already holding this step's K (kv_store)
//   VC  [capacity, n_kv_heads, HD]     same
//   VIS [rows] uvec4 (a, b, e, -): row r sees key slots [0, a) U [b, e)   (DESIGN.md section 2)
//   OUT [rows, n_heads, HD]            fp32
// One workgroup per (head, row). Lanes split the head dimension (lane l owns dims l, l+WG, ...), so
// a key's score is one reduction; softmax is online (running max m, running sum l, rescaled
// accumulator), one pass over the keys and nothing of size "number of keys" is stored.
// A row that sees no key outputs zeros.
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HD = 64;
layout(constant_id = 2) const uint KV_F16 = 0;
const uint WG = gl_WorkGroupSize.x;
const uint EPL = (HD + WG - 1) / WG;   // head dims per lane

layout(binding = 0) readonly buffer Qv { float q_in[]; };
layout(binding = 1) readonly buffer Kc32 { float kc32[]; };
layout(binding = 1) readonly buffer Kc16 { uint kc16[]; };
layout(binding = 2) readonly buffer Vc32 { float vc32[]; };
layout(binding = 2) readonly buffer Vc16 { uint vc16[]; };
layout(binding = 3) readonly buffer Vis { uvec4 vis[]; };
layout(binding = 4) writeonly buffer Ov { float o[]; };
layout(push_constant) uniform Push { uint rows; uint n_heads; uint n_kv_heads; float scale; } p;

float load_k(uint i) { return KV_F16 == 1 ? unpackHalf2x16(kc16[i >> 1])[i & 1] : kc32[i]; }
float load_v(uint i) { return KV_F16 == 1 ? unpackHalf2x16(vc16[i >> 1])[i & 1] : vc32[i]; }

void main() {
    const uint lane = gl_LocalInvocationID.x;
    const uint head = gl_WorkGroupID.x;
    const uint r = gl_WorkGroupID.y;
    if (r >= p.rows) return;
    const uint kvh = head / (p.n_heads / p.n_kv_heads);
    const uint kv_dim = p.n_kv_heads * HD;
    const uint qbase = (r * p.n_heads + head) * HD;

    float q[EPL], acc[EPL];
    for (uint i = 0; i < EPL; i++) {
        uint d = lane + i * WG;
        q[i] = d < HD ? q_in[qbase + d] * p.scale : 0.0;
        acc[i] = 0.0;
    }

    float m = -1e30, l = 0.0;
    uvec4 v = vis[r];
    for (uint seg = 0; seg < 2; seg++) {
        uint start = seg == 0 ? 0 : v.y;
        uint end = seg == 0 ? v.x : v.z;
        for (uint j = start; j < end; j++) {
            uint kbase = j * kv_dim + kvh * HD;
            float part = 0.0;
            for (uint i = 0; i < EPL; i++) {
                uint d = lane + i * WG;
                if (d < HD) part += q[i] * load_k(kbase + d);
            }
            float s = wg_sum(part);
            float m_new = max(m, s);
            float corr = exp(m - m_new);
            float pj = exp(s - m_new);
            l = l * corr + pj;
            for (uint i = 0; i < EPL; i++) {
                uint d = lane + i * WG;
                float vv = d < HD ? load_v(kbase + d) : 0.0;
                acc[i] = acc[i] * corr + pj * vv;
            }
            m = m_new;
        }
    }

    float inv = l > 0.0 ? 1.0 / l : 0.0;
    for (uint i = 0; i < EPL; i++) {
        uint d = lane + i * WG;
        if (d < HD) o[qbase + d] = acc[i] * inv;
    }
}
