// What the three product kernels (matmul.comp, matmul_tiled.comp, matmul_rows.comp) share: the output
// binding, the push constants (one C# struct, Kernels.MatMulPush) and where an output lands. Included
// after the includer's ACCUM specialization constant (1: Y += result, a fused residual add).
layout(binding = 2) buffer Yv { float y[]; };             // Y [M, ldy] (read too when ACCUM)

// N counts the rows of this W binding; they land in Y columns n_off.. of rows of length ldy, so a
// matrix larger than maxStorageBufferRange runs as several dispatches over row chunks.
// X rows start at x_row_off, so an output that is bound in row chunks can share one X binding.
// Fused products (q|k|v) split their output columns into up to three segments, each stored as its own
// row-major block of Y: columns [0, seg1) at 0 with rows of ldy, [seg1, seg2) at base1, [seg2, n_total)
// at base2. Without a split seg1 = seg2 = 0xFFFFFFFF. With GLU, columns count outputs (weight rows / 2).
// eps: the fused RMSNorm's epsilon (NORM).
layout(push_constant) uniform Push {
    uint M; uint N; uint K; uint ldy; uint n_off; uint x_row_off;
    uint seg1; uint seg2; uint n_total; uint base1; uint base2; float eps;
} p;

uint y_index(uint m, uint n) {  // n: column of the whole product (n_off included)
    if (n < p.seg1) return m * p.ldy + n;
    if (n < p.seg2) return p.base1 + m * (p.seg2 - p.seg1) + (n - p.seg1);
    return p.base2 + m * (p.n_total - p.seg2) + (n - p.seg2);
}

void store(uint m, uint n, float v) {
    const uint at = y_index(m, n);
    y[at] = ACCUM == 1 ? y[at] + v : v;
}
