#version 450
// Y[M, N] = X[M, K] * W[N, K]^T with 64x64 output tiles staged through shared memory in K-slices of
// 16: the classic layout for real GPUs, where shared memory is fast and each loaded value is reused
// 64 times. 256 threads, each computing a 4x4 block (rows ty+16i; columns tx+16j, so that threads
// of a row read consecutive shared addresses, or with GLU the pairs 2tx, 2tx+1 and 2tx+32, 2tx+33 so
// that one thread holds each gate/up pair). Grid: (ceil(N/64) folded over x/y, 1, ceil(M/64)).
// Fused work as in matmul.comp: NORM (RMS-normalise X rows with G first), GLU (interleaved gate/up
// rows -> silu(gate) * up in N/2 columns), ACCUM (Y += result).
#include "common.glsl"

layout(local_size_x = 16, local_size_y = 16) in;
layout(constant_id = 0) const uint W_TYPE = 0;  // 0 fp32, 1 fp16, 8 q8_0 (weights.glsl)
layout(constant_id = 1) const uint ACCUM = 0;
layout(constant_id = 2) const uint NORM = 0;
layout(constant_id = 3) const uint GLU = 0;

#define WEIGHT_BINDING 0
#include "weights.glsl"
layout(binding = 1) readonly buffer Xv { float x1[]; };   // X [M, K]
layout(binding = 3) readonly buffer Gv { float g1[]; };   // G [K] (NORM; any buffer otherwise)
#include "matmul_output.glsl"

const uint BM = 64, BN = 64, BK = 16;
shared float xs[BK][BM];
shared float ws[BK][BN];
shared float row_part[256];
shared float row_scale[BM];

// Tile column of this thread's j-th accumulator.
uint tile_col(uint tx, uint j) { return GLU == 1 ? (j / 2) * 32 + 2 * tx + (j % 2) : tx + 16 * j; }

void main() {
    const uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
    const uint tid = ty * 16 + tx;
    const uint n0 = group_index_xy() * BN;
    const uint m0 = gl_WorkGroupID.z * BM;

    if (NORM == 1) {
        // 4 threads per row of the tile sum its squares; the row's scale goes to shared memory.
        const uint r = tid / 4, part = tid % 4, m = m0 + r;
        float s = 0.0;
        if (m < p.M) for (uint k = part; k < p.K; k += 4) { float v = x1[(p.x_row_off + m) * p.K + k]; s += v * v; }
        row_part[tid] = s;
        barrier();
        if (part == 0) row_scale[r] = inversesqrt((row_part[tid] + row_part[tid + 1] + row_part[tid + 2] + row_part[tid + 3]) / float(p.K) + p.eps);
        barrier();
    }

    float acc[4][4];
    for (uint i = 0; i < 4; i++) for (uint j = 0; j < 4; j++) acc[i][j] = 0.0;

    for (uint k0 = 0; k0 < p.K; k0 += BK) {
        for (uint e = tid; e < BM * BK; e += 256) {
            uint r = e / BK, c = e % BK, m = m0 + r, k = k0 + c;
            float v = (m < p.M && k < p.K) ? x1[(p.x_row_off + m) * p.K + k] : 0.0;
            if (NORM == 1 && k < p.K) v *= g1[k];
            xs[c][r] = v;
        }
        for (uint e = tid; e < BN * BK; e += 256) {
            uint r = e / BK, c = e % BK, n = n0 + r, k = k0 + c;
            ws[c][r] = (n < p.N && k < p.K) ? load_w(n, k, p.K) : 0.0;
        }
        barrier();
        for (uint c = 0; c < BK; c++) {
            float a[4], b[4];
            for (uint i = 0; i < 4; i++) a[i] = xs[c][ty + 16 * i];
            for (uint j = 0; j < 4; j++) b[j] = ws[c][tile_col(tx, j)];
            for (uint i = 0; i < 4; i++) for (uint j = 0; j < 4; j++) acc[i][j] += a[i] * b[j];
        }
        barrier();
    }

    for (uint i = 0; i < 4; i++) {
        uint m = m0 + ty + 16 * i;
        if (m >= p.M) continue;
        float scale = NORM == 1 ? row_scale[ty + 16 * i] : 1.0;
        if (GLU == 1) {
            for (uint j = 0; j < 4; j += 2) {
                uint n = n0 + tile_col(tx, j);
                float gate = acc[i][j] * scale, up = acc[i][j + 1] * scale;
                if (n + 1 < p.N) store(m, (p.n_off + n) / 2, gate / (1.0 + exp(-gate)) * up);
            }
        } else {
            for (uint j = 0; j < 4; j++) {
                uint n = n0 + tile_col(tx, j);
                if (n < p.N) store(m, p.n_off + n, acc[i][j] * scale);
            }
        }
    }
}
