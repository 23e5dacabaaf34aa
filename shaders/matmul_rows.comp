#version 450
// Y[M, N] = X[M, K] * W[N, K]^T for CPU drivers: each lane owns whole weight rows (TN of them, side by
// side) and walks all of K itself, so no cross-lane reduction is needed and every lane reads the same
// X value at the same time (a uniform load, which a CPU driver turns into one scalar load). A workgroup
// covers WG * TN weight rows and TM activation rows. Grid: (ceil(N / (WG*TN)) folded over x/y, ceil(M/TM)).
// Fused work as in matmul.comp (NORM, GLU with TN even, ACCUM); push constants and bindings identical.
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint TM = 1;
layout(constant_id = 2) const uint TN = 2;
layout(constant_id = 3) const uint W_TYPE = 0;
layout(constant_id = 4) const uint VEC4 = 1;
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
    const uint n0 = (group_index_xy() * WG + lane) * TN;   // this lane's first weight row
    const uint m0 = gl_WorkGroupID.z * TM;

    float acc[TM * TN];
    for (uint i = 0; i < TM * TN; i++) acc[i] = 0.0;
    float ss[TM];
    for (uint i = 0; i < TM; i++) ss[i] = 0.0;
    uint xrow[TM];
    for (uint i = 0; i < TM; i++) xrow[i] = p.x_row_off + min(m0 + i, p.M - 1);
    uint wrow[TN];
    for (uint j = 0; j < TN; j++) wrow[j] = min(n0 + j, p.N - 1);

    if (VEC4 == 1) {
        const uint K4 = p.K / 4;
        for (uint k = 0; k < K4; k++) {
            vec4 xv[TM];
            vec4 g = NORM == 1 ? g4[k] : vec4(1.0);
            for (uint i = 0; i < TM; i++) {
                xv[i] = x4[xrow[i] * K4 + k];
                if (NORM == 1) { ss[i] += dot(xv[i], xv[i]); xv[i] *= g; }
            }
            for (uint j = 0; j < TN; j++) {
                vec4 wv = load_w4(wrow[j], k, p.K);
                for (uint i = 0; i < TM; i++) acc[i * TN + j] += dot(xv[i], wv);
            }
        }
    } else {
        for (uint k = 0; k < p.K; k++) {
            float xv[TM];
            float g = NORM == 1 ? g1[k] : 1.0;
            for (uint i = 0; i < TM; i++) {
                xv[i] = x1[xrow[i] * p.K + k];
                if (NORM == 1) { ss[i] += xv[i] * xv[i]; xv[i] *= g; }
            }
            for (uint j = 0; j < TN; j++) {
                float wv = load_w(wrow[j], k, p.K);
                for (uint i = 0; i < TM; i++) acc[i * TN + j] += xv[i] * wv;
            }
        }
    }

    for (uint i = 0; i < TM; i++) {
        if (m0 + i >= p.M) break;
        const float scale = NORM == 1 ? inversesqrt(ss[i] / float(p.K) + p.eps) : 1.0;
        if (GLU == 1) {
            for (uint j = 0; j < TN; j += 2) {
                float gate = acc[i * TN + j] * scale, up = acc[i * TN + j + 1] * scale;
                if (n0 + j + 1 < p.N) store(m0 + i, (p.n_off + n0 + j) / 2, gate / (1.0 + exp(-gate)) * up);
            }
        } else {
            for (uint j = 0; j < TN; j++)
                if (n0 + j < p.N) store(m0 + i, p.n_off + n0 + j, acc[i * TN + j] * scale);
        }
    }
}
