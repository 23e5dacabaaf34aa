#version 450
// Y[M, N] = X[M, K] * W[N, K]^T with 64x64 output tiles staged through shared memory in K-slices of
// 16: the classic layout for real GPUs, where shared memory is fast and each loaded value is reused
// 64 times. 256 threads, each computing a 4x4 block (rows ty+16i, columns tx+16j, so that threads
// of a row read consecutive shared addresses). Grid: (ceil(N/64) folded over x/y, 1, ceil(M/64)).
#include "common.glsl"

layout(local_size_x = 16, local_size_y = 16) in;
layout(constant_id = 0) const uint W_TYPE = 0;  // 0 fp32, 1 fp16, 8 q8_0 (weights.glsl)
layout(constant_id = 1) const uint ACCUM = 0;   // 1: Y += X W^T (the residual add fused into the product)

#define WEIGHT_BINDING 0
#include "weights.glsl"
layout(binding = 1) readonly buffer Xv { float x1[]; };   // X [M, K]
layout(binding = 2) buffer Yv { float y[]; };  // Y [M, ldy] (read too when ACCUM)
// N counts the rows of this W binding; they land in Y columns n_off.. of rows of length ldy, so a
// matrix larger than maxStorageBufferRange runs as several dispatches over row chunks.
// X rows start at x_row_off, so an output that is bound in row chunks can share one X binding.
// Fused products (q|k|v, gate|up) split their output columns into up to three segments, each stored
// as its own row-major block of Y: columns [0, seg1) at 0 with rows of ldy, [seg1, seg2) at base1,
// [seg2, n_total) at base2. Without a split seg1 = seg2 = 0xFFFFFFFF.
layout(push_constant) uniform Push {
    uint M; uint N; uint K; uint ldy; uint n_off; uint x_row_off;
    uint seg1; uint seg2; uint n_total; uint base1; uint base2;
} p;

uint y_index(uint m, uint n) {  // n: column of the whole product (n_off included)
    if (n < p.seg1) return m * p.ldy + n;
    if (n < p.seg2) return p.base1 + m * (p.seg2 - p.seg1) + (n - p.seg1);
    return p.base2 + m * (p.n_total - p.seg2) + (n - p.seg2);
}

const uint BM = 64, BN = 64, BK = 16;
shared float xs[BK][BM];
shared float ws[BK][BN];

void main() {
    const uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
    const uint tid = ty * 16 + tx;
    const uint n0 = group_index_xy() * BN;
    const uint m0 = gl_WorkGroupID.z * BM;

    float acc[4][4];
    for (uint i = 0; i < 4; i++) for (uint j = 0; j < 4; j++) acc[i][j] = 0.0;

    for (uint k0 = 0; k0 < p.K; k0 += BK) {
        for (uint e = tid; e < BM * BK; e += 256) {
            uint r = e / BK, c = e % BK, m = m0 + r, k = k0 + c;
            xs[c][r] = (m < p.M && k < p.K) ? x1[(p.x_row_off + m) * p.K + k] : 0.0;
        }
        for (uint e = tid; e < BN * BK; e += 256) {
            uint r = e / BK, c = e % BK, n = n0 + r, k = k0 + c;
            ws[c][r] = (n < p.N && k < p.K) ? load_w(n, k, p.K) : 0.0;
        }
        barrier();
        for (uint c = 0; c < BK; c++) {
            float a[4], b[4];
            for (uint i = 0; i < 4; i++) a[i] = xs[c][ty + 16 * i];
            for (uint j = 0; j < 4; j++) b[j] = ws[c][tx + 16 * j];
            for (uint i = 0; i < 4; i++) for (uint j = 0; j < 4; j++) acc[i][j] += a[i] * b[j];
        }
        barrier();
    }

    for (uint i = 0; i < 4; i++) {
        uint m = m0 + ty + 16 * i;
        if (m >= p.M) continue;
        for (uint j = 0; j < 4; j++) {
            uint n = n0 + tx + 16 * j;
            if (n < p.N) {
                const uint at = y_index(m, p.n_off + n);
                y[at] = ACCUM == 1 ? y[at] + acc[i][j] : acc[i][j];
            }
        }
    }
}
