#version 450
// Element-wise ops over n fp32 values, one invocation per element:
//   OP 0 residual add:  OUT[i] = A[i] + B[i]
//   OP 1 bias add:      OUT[r, c] = A[r, c] + B[c]          (B [cols], broadcast over rows)
//   OP 2 SwiGLU:        OUT[i] = silu(A[i]) * B[i]          (A = gate, B = up)
// OUT may alias A (in place).
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint OP = 0;
layout(binding = 0) readonly buffer Av { float a[]; };
layout(binding = 1) readonly buffer Bv { float b[]; };
layout(binding = 2) writeonly buffer Ov { float o[]; };
layout(push_constant) uniform Push { uint n; uint cols; } p;

void main() {
    uint i = group_index_xy() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (i >= p.n) return;
    float av = a[i];
    if (OP == 0) o[i] = av + b[i];
    else if (OP == 1) o[i] = av + b[i % p.cols];
    else o[i] = av / (1.0 + exp(-av)) * b[i];
}
