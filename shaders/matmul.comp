#version 450
// Y[M, N] = X[M, K] * W[N, K]^T, fp32 activations and accumulation, W in fp32, fp16 or q8_0.
// Register-tiled: a workgroup computes a TM x TN tile of Y; its lanes split K (lane l reads columns
// l, l+WG, ... so neighbouring lanes read neighbouring memory) and meet in one reduction at the end.
// No shared memory and no barriers, which is what CPU drivers (lavapipe) run fastest; with TM = 1 it
// is the matrix x one row (matvec) kernel. Grid: (ceil(N/TN) folded over x/y, ceil(M/TM)).
// Fused work, each a specialization constant:
//   NORM  : X rows are RMS-normalised with weight G [K] first (rmsnorm.comp), from sums of squares
//           the lanes gather while they stream X anyway: y = rms(x)^-1 * sum_k x_k g_k w_k.
//   GLU   : W's rows interleave gate and up (row 2j = gate_j, row 2j+1 = up_j); Y gets
//           silu(gate_j) * up_j in column j, so Y has N/2 columns (TN is even).
//   ACCUM : Y += result (a residual add).
#include "common.glsl"

layout(local_size_x_id = 0) in;                 // WG lanes
layout(constant_id = 1) const uint TM = 1;      // activation rows per workgroup
layout(constant_id = 2) const uint TN = 4;      // weight rows per workgroup
layout(constant_id = 3) const uint W_TYPE = 0;  // 0 fp32, 1 fp16, 8 q8_0 (weights.glsl)
layout(constant_id = 4) const uint VEC4 = 1;    // 1 when K % 4 == 0: 16-byte loads
layout(constant_id = 5) const uint ACCUM = 0;
layout(constant_id = 6) const uint NORM = 0;
layout(constant_id = 7) const uint GLU = 0;

#define WEIGHT_BINDING 0
#include "weights.glsl"
layout(binding = 1) readonly buffer Xv4 { vec4 x4[]; };   // X [M, K]
layout(binding = 1) readonly buffer Xv1 { float x1[]; };
layout(binding = 3) readonly buffer Gv4 { vec4 g4[]; };   // G [K] (NORM; any buffer otherwise)
layout(binding = 3) readonly buffer Gv1 { float g1[]; };
#include "matmul_output.glsl"

void main() {
    const uint lane = gl_LocalInvocationID.x;
    const uint WG = gl_WorkGroupSize.x;
    const uint n0 = group_index_xy() * TN;
    const uint m0 = gl_WorkGroupID.z * TM;
    if (n0 >= p.N) return;  // uniform per workgroup

    float acc[TM * TN];
    for (uint i = 0; i < TM * TN; i++) acc[i] = 0.0;
    float ss[TM];           // NORM: this lane's share of each row's sum of squares
    for (uint i = 0; i < TM; i++) ss[i] = 0.0;

    // Rows past the edge read the last valid row (cheap, in bounds) and are never written.
    uint xrow[TM];
    for (uint i = 0; i < TM; i++) xrow[i] = p.x_row_off + min(m0 + i, p.M - 1);
    uint wrow[TN];
    for (uint j = 0; j < TN; j++) wrow[j] = min(n0 + j, p.N - 1);

    if (VEC4 == 1) {
        const uint K4 = p.K / 4;
        for (uint k = lane; k < K4; k += WG) {
            vec4 xv[TM];
            vec4 g = NORM == 1 ? g4[k] : vec4(1.0);
            for (uint i = 0; i < TM; i++) {
                xv[i] = x4[xrow[i] * K4 + k];
                if (NORM == 1) {
                    ss[i] += dot(xv[i], xv[i]);
                    xv[i] *= g;
                }
            }
            for (uint j = 0; j < TN; j++) {
                vec4 wv = load_w4(wrow[j], k, p.K);
                for (uint i = 0; i < TM; i++) acc[i * TN + j] += dot(xv[i], wv);
            }
        }
    } else {
        for (uint k = lane; k < p.K; k += WG) {
            float xv[TM];
            float g = NORM == 1 ? g1[k] : 1.0;
            for (uint i = 0; i < TM; i++) {
                xv[i] = x1[xrow[i] * p.K + k];
                if (NORM == 1) {
                    ss[i] += xv[i] * xv[i];
                    xv[i] *= g;
                }
            }
            for (uint j = 0; j < TN; j++) {
                float wv = load_w(wrow[j], k, p.K);
                for (uint i = 0; i < TM; i++) acc[i * TN + j] += xv[i] * wv;
            }
        }
    }

    for (uint i = 0; i < TM; i++) {
        const float scale = NORM == 1 ? inversesqrt(wg_sum(ss[i]) / float(p.K) + p.eps) : 1.0;
        const bool row_ok = m0 + i < p.M;
        if (GLU == 1) {
            for (uint j = 0; j < TN; j += 2) {
                float gate = wg_sum(acc[i * TN + j]) * scale, up = wg_sum(acc[i * TN + j + 1]) * scale;
                if (lane == 0 && row_ok && n0 + j + 1 < p.N) store(m0 + i, (p.n_off + n0 + j) / 2, gate / (1.0 + exp(-gate)) * up);
            }
        } else {
            for (uint j = 0; j < TN; j++) {
                float s = wg_sum(acc[i * TN + j]) * scale;
                if (lane == 0 && row_ok && n0 + j < p.N) store(m0 + i, p.n_off + n0 + j, s);
            }
        }
    }
}
