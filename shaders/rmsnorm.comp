#version 450
// OUT[r, :] = X[r, :] / sqrt(mean(X[r, :]^2) + eps) * W[:]. X, OUT [rows, cols]; W [cols].
// One workgroup per row; may run in place (X and OUT the same range). Also serves per-head q/k
// norms (rows = tokens * heads, cols = head_dim).
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(binding = 0) readonly buffer Xv { float x[]; };
layout(binding = 1) readonly buffer Wv { float w[]; };
layout(binding = 2) writeonly buffer Ov { float o[]; };
layout(push_constant) uniform Push { uint rows; uint cols; float eps; } p;

void main() {
    uint r = group_index_xy();
    if (r >= p.rows) return;
    uint base = r * p.cols;
    float ss = 0.0;
    for (uint c = gl_LocalInvocationID.x; c < p.cols; c += gl_WorkGroupSize.x) {
        float v = x[base + c];
        ss += v * v;
    }
    float scale = inversesqrt(wg_sum(ss) / float(p.cols) + p.eps);
    for (uint c = gl_LocalInvocationID.x; c < p.cols; c += gl_WorkGroupSize.x)
        o[base + c] = x[base + c] * scale * w[c];
}
