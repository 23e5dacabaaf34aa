// Shared helpers for every compute shader. Included after #version.
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

// Index of this workgroup in a grid whose x dimension may have been folded into y
// (the host splits counts above the device's maxComputeWorkGroupCount[0]).
uint group_index_xy() { return gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x; }

// Workgroup-wide reductions. With one subgroup per workgroup (what CPU drivers want) they are a
// single subgroup operation and never touch shared memory or barriers; otherwise the per-subgroup
// results meet in shared memory. Must be called in uniform control flow.
// The host sets ONE_SUBGROUP (constant id 100, every pipeline) when it knows each workgroup is a single
// subgroup (its lanes fit the device's smallest subgroup). The shared-memory path below is then dead code
// the driver removes: on CPU drivers a barrier anywhere in a shader makes every workgroup far slower
// (lavapipe runs such shaders as coroutines), even when it is never reached. (The host decides, because
// a specialization-constant expression over gl_WorkGroupSize is folded with the default size by glslang.)
layout(constant_id = 100) const bool ONE_SUBGROUP = false;
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
