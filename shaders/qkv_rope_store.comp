#version 450
// One layer's attention prologue in one dispatch; it does what bias add, q/k RMSNorm, RoPE (rope.comp)
// and kv_store.comp do one after another:
//   Q    [rows, n_heads, HD]         fp32 in      QOUT  [rows, n_heads, HD]           fp32 out
//   K, V [rows, n_kv_heads, HD]      fp32 in      KC, VC [capacity, n_kv_heads * HD]  fp32 or fp16 (KV_F16), row SLOT[r]
//   PAR  per-layer vectors, fp32: bq [n_heads * HD] at off_bq, bk and bv [n_kv_heads * HD] at off_bk and
//        off_bv (BIAS), q and k norm weights [HD] at off_qn and off_kn (QK_NORM)
//   POS  [rows] int, SLOT [rows] uint (slots past capacity are skipped)
// q and k heads: x += bias; x = x / rms(x) * w (per head); RoPE at POS[r] with MODE's pairing (rope.comp).
// v: x += bias. One workgroup per (head slot, row); slots 0..n_heads-1 are q heads, the rest kv heads.
// A lane owns adjacent output dims (2i, 2i+1), so one lane writes each fp16 cache word, and reads a rotated
// value's partner from the input itself instead of another lane: no shared memory and no barrier.
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HD = 64;
layout(constant_id = 2) const uint MODE = 1;     // 0 norm (2i, 2i+1), 1 neox (i, i + n_rot/2)
layout(constant_id = 3) const uint KV_F16 = 0;
layout(constant_id = 4) const uint BIAS = 0;
layout(constant_id = 5) const uint QK_NORM = 0;
const uint WG = gl_WorkGroupSize.x;
const uint PAIRS = HD / 2;
const uint PPL = (PAIRS + WG - 1) / WG;          // output pairs per lane

layout(binding = 0) readonly buffer Qv { float q_in[]; };
layout(binding = 1) readonly buffer Kv { float k_in[]; };
layout(binding = 2) readonly buffer Vv { float v_in[]; };
layout(binding = 3) readonly buffer Par { float par[]; };
layout(binding = 4) readonly buffer Pos { int pos[]; };
layout(binding = 5) readonly buffer Slots { uint slot[]; };
layout(binding = 6) writeonly buffer Qo { vec2 q_out[]; };
layout(binding = 7) writeonly buffer Kc32 { vec2 kc32[]; };
layout(binding = 7) writeonly buffer Kc16 { uint kc16[]; };
layout(binding = 8) writeonly buffer Vc32 { vec2 vc32[]; };
layout(binding = 8) writeonly buffer Vc16 { uint vc16[]; };
layout(push_constant) uniform Push {
    uint rows; uint n_heads; uint n_kv_heads; uint n_rot; float base; float eps; uint capacity;
    uint off_bq; uint off_bk; uint off_bv; uint off_qn; uint off_kn;
} p;

// Input value d of this head, bias added.
float biased(bool is_q, uint at, uint bias_at, uint d) {
    float x = is_q ? q_in[at + d] : k_in[at + d];
    return BIAS == 1 ? x + par[bias_at + d] : x;
}

void main() {
    const uint lane = gl_LocalInvocationID.x;
    const uint hs = gl_WorkGroupID.x, r = gl_WorkGroupID.y;
    if (r >= p.rows) return;  // uniform per workgroup
    const bool is_q = hs < p.n_heads;
    const uint head = is_q ? hs : hs - p.n_heads;
    const uint at = (r * (is_q ? p.n_heads : p.n_kv_heads) + head) * HD;
    const uint bias_at = (is_q ? p.off_bq : p.off_bk) + head * HD;
    const uint norm_at = is_q ? p.off_qn : p.off_kn;

    float scale = 1.0;
    if (QK_NORM == 1) {
        float ss = 0.0;
        for (uint t = 0; t < PPL; t++) {
            uint i = lane + t * WG;
            if (i < PAIRS) {
                float a = biased(is_q, at, bias_at, 2 * i), b = biased(is_q, at, bias_at, 2 * i + 1);
                ss += a * a + b * b;
            }
        }
        scale = inversesqrt(wg_sum(ss) / float(HD) + p.eps);
    }

    const uint half_rot = p.n_rot / 2;
    const float fpos = float(pos[r]);
    const uint s = slot[r];
    const uint kv_word = (s * p.n_kv_heads + head) * PAIRS;   // this head's first pair in the cache
    for (uint t = 0; t < PPL; t++) {
        uint i = lane + t * WG;
        if (i >= PAIRS) break;
        vec2 o;
        for (uint e = 0; e < 2; e++) {
            uint d = 2 * i + e;
            float x = biased(is_q, at, bias_at, d);
            if (QK_NORM == 1) x = x * scale * par[norm_at + d];
            if (d < p.n_rot) {
                bool first = MODE == 1 ? d < half_rot : (d & 1) == 0;
                uint partner = MODE == 1 ? (first ? d + half_rot : d - half_rot) : d ^ 1;
                uint pair = MODE == 1 ? (first ? d : d - half_rot) : d / 2;
                float xp = biased(is_q, at, bias_at, partner);
                if (QK_NORM == 1) xp = xp * scale * par[norm_at + partner];
                // The same expression as rope.comp, so both give the same bits.
                float inv_freq = exp2(-2.0 * float(pair) / float(p.n_rot) * log2(p.base));
                float angle = fpos * inv_freq;
                float c = cos(angle), sn = sin(angle);
                x = first ? x * c - xp * sn : xp * sn + x * c;
            }
            o[e] = x;
        }
        if (is_q) {
            q_out[at / 2 + i] = o;
        } else if (s < p.capacity) {
            vec2 v = vec2(v_in[at + 2 * i], v_in[at + 2 * i + 1]);
            if (BIAS == 1) v += vec2(par[p.off_bv + head * HD + 2 * i], par[p.off_bv + head * HD + 2 * i + 1]);
            if (KV_F16 == 1) {
                kc16[kv_word + i] = packHalf2x16(o);
                vc16[kv_word + i] = packHalf2x16(v);
            } else {
                kc32[kv_word + i] = o;
                vc32[kv_word + i] = v;
            }
        }
    }
}
