#version 450
// Per-row argmax: OUT[r] = (index, value bits) of the largest X[r, :]; ties go to the lowest index
// (the rule greedy decoding and its CPU reference share). X [rows, stride] fp32 (first cols used), OUT [rows] uvec2.
// One workgroup per row; NaNs never win.
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(binding = 0) readonly buffer Xv { float x[]; };
layout(binding = 1) writeonly buffer Ov { uvec2 o[]; };
layout(push_constant) uniform Push { uint rows; uint cols; uint stride; } p;  // X rows are `stride` apart

void main() {
    uint r = group_index_xy();
    if (r >= p.rows) return;
    uint base = r * p.stride;
    float best = -3.402823e38;
    uint best_i = 0xFFFFFFFFu;
    for (uint c = gl_LocalInvocationID.x; c < p.cols; c += gl_WorkGroupSize.x) {
        float v = x[base + c];
        if (v > best) { best = v; best_i = c; }   // strict: keeps this lane's lowest index
    }
    float top = wg_max(best);
    uint idx = wg_min_u(best == top ? best_i : 0xFFFFFFFFu);
    if (gl_LocalInvocationID.x == 0) o[r] = uvec2(idx == 0xFFFFFFFFu ? 0u : idx, floatBitsToUint(top));
}
