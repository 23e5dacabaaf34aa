#version 450
// Per-row softmax with a temperature: OUT[r, c] = exp(s*X[r,c] - max) / sum, s = 1/temperature.
// X, OUT [rows, cols] fp32 (may alias). One workgroup per row, three passes over the row.
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(binding = 0) readonly buffer Xv { float x[]; };
layout(binding = 1) buffer Ov { float o[]; };
layout(push_constant) uniform Push { uint rows; uint cols; float inv_temperature; } p;

void main() {
    uint r = group_index_xy();
    if (r >= p.rows) return;
    uint base = r * p.cols;
    float mx = -3.402823e38;
    for (uint c = gl_LocalInvocationID.x; c < p.cols; c += gl_WorkGroupSize.x)
        mx = max(mx, x[base + c] * p.inv_temperature);
    mx = wg_max(mx);
    float sum = 0.0;
    for (uint c = gl_LocalInvocationID.x; c < p.cols; c += gl_WorkGroupSize.x) {
        float e = exp(x[base + c] * p.inv_temperature - mx);
        o[base + c] = e;
        sum += e;
    }
    float inv = 1.0 / wg_sum(sum);
    for (uint c = gl_LocalInvocationID.x; c < p.cols; c += gl_WorkGroupSize.x)
        o[base + c] *= inv;
}
