// Shared helpers for every compute shader. Included after #version.
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

// Index of this workgroup in a grid whose x dimension may have been folded into y
// (the host splits counts above the device's maxComputeWorkGroupCount[0]).
uint group_index_xy() { return gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x; }

// Workgroup-wide reductions. With one subgroup per workgroup (what CPU drivers want) they are a
// single subgroup operation and never touch shared memory or barriers; otherwise the per-subgroup
// results meet in shared memory. Must be called in uniform control flow.
// The host sets MIN_SUBGROUP_SIZE (constant id 100, every pipeline) to the device's smallest subgroup.
// When the workgroup fits in it, the shared-memory path below is dead code the driver removes: on CPU
// drivers a barrier anywhere in a shader makes every workgroup far slower (lavapipe runs such shaders
// as coroutines), even when it is never reached.
layout(constant_id = 100) const uint MIN_SUBGROUP_SIZE = 1;
const bool ONE_SUBGROUP = gl_WorkGroupSize.x <= MIN_SUBGROUP_SIZE;
const uint MAX_SUBGROUPS = 64;
shared float wg_scratch_f[MAX_SUBGROUPS];
shared uint wg_scratch_u[MAX_SUBGROUPS];

float wg_sum(float v) {
    v = subgroupAdd(v);
    if (ONE_SUBGROUP || gl_NumSubgroups == 1) return v;
    barrier();
    if (subgroupElect()) wg_scratch_f[gl_SubgroupID] = v;
    barrier();
    float t = 0.0;
    for (uint i = 0; i < gl_NumSubgroups; i++) t += wg_scratch_f[i];
    return t;
}

float wg_max(float v) {
    v = subgroupMax(v);
    if (ONE_SUBGROUP || gl_NumSubgroups == 1) return v;
    barrier();
    if (subgroupElect()) wg_scratch_f[gl_SubgroupID] = v;
    barrier();
    float t = wg_scratch_f[0];
    for (uint i = 1; i < gl_NumSubgroups; i++) t = max(t, wg_scratch_f[i]);
    return t;
}

uint wg_min_u(uint v) {
    v = subgroupMin(v);
    if (ONE_SUBGROUP || gl_NumSubgroups == 1) return v;
    barrier();
    if (subgroupElect()) wg_scratch_u[gl_SubgroupID] = v;
    barrier();
    uint t = wg_scratch_u[0];
    for (uint i = 1; i < gl_NumSubgroups; i++) t = min(t, wg_scratch_u[i]);
    return t;
}
