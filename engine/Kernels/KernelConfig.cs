using TiDAR.Engine.Vulkan;

namespace TiDAR.Engine.Kernels;

/// <summary>Which matmul kernel runs a product.</summary>
public enum MatMulVariant
{
    /// <summary>matmul.comp: register tile, lanes split K, no shared memory (CPU drivers; any M).</summary>
    RegisterTiled,
    /// <summary>matmul_tiled.comp: 64x64 shared-memory tiles (real GPUs, many rows).</summary>
    SharedTiled,
    /// <summary>matmul_rows.comp: each lane owns whole weight rows, no reduction, uniform X loads (CPU drivers).</summary>
    RowPerLane,
}

/// <summary>
/// Kernel shapes chosen from the device's properties. CPU drivers (lavapipe) run one subgroup per
/// workgroup and avoid shared memory and barriers; GPUs get wider workgroups and shared-memory tiles.
/// </summary>
public sealed record KernelConfig
{
    /// <summary>Lanes of reduction kernels (rmsnorm, softmax, argmax, attention, matmul.comp).</summary>
    public required uint ReduceLanes { get; init; }
    /// <summary>Lanes of one-element-per-invocation kernels.</summary>
    public required uint ElementLanes { get; init; }
    /// <summary>Weight rows per workgroup of the matrix x one row kernel.</summary>
    public required uint MatVecRows { get; init; }
    /// <summary>Register tile of the matrix x many rows kernel (activation rows, weight rows).</summary>
    public required uint TileM { get; init; }
    public required uint TileN { get; init; }
    /// <summary>
    /// The kernel for products of fewer than <see cref="SharedTiledMinRows"/> rows, and the one a batch-invariant
    /// model runs for every row count (each variant sums an output in one order whatever the number of rows,
    /// so a row's result never depends on what else is in the step).
    /// </summary>
    public MatMulVariant FewRowsVariant { get; init; } = MatMulVariant.RegisterTiled;
    /// <summary>
    /// Attention with lanes splitting the keys (attention_keys.comp: no reduction per key, for CPU drivers)
    /// instead of the head dimension (attention.comp). Needs head_dim % 4 == 0; others use attention.comp.
    /// </summary>
    public bool AttentionKeysPerLane { get; init; }
    /// <summary>
    /// Split attention (attention_keys.comp with SPLIT 1, then attention_merge.comp): the keys of a cache are cut into at most
    /// this many chunks, each its own workgroup, so a few rows still fill a GPU (0: no split, the CPU setting).
    /// </summary>
    public int AttentionSplitMaxChunks { get; init; }
    /// <summary>Fewest keys in a chunk of split attention.</summary>
    public int AttentionSplitMinChunk { get; init; } = 256;
    /// <summary>Weight rows per lane of <see cref="MatMulVariant.RowPerLane"/> (even, for gate/up pairs).</summary>
    public uint LaneRows { get; init; } = 2;
    /// <summary>From this many activation rows on, products use <see cref="ManyRowsVariant"/>.</summary>
    public required int SharedTiledMinRows { get; init; }
    public required MatMulVariant ManyRowsVariant { get; init; }

    public static KernelConfig For(DeviceInfo device)
    {
        uint sg = Math.Max(1, device.SubgroupSize);
        if (device.IsCpu)
            return new KernelConfig
            {
                // Measured on lavapipe (2 cores): lanes that own 8 weight rows each and take 4 activation rows
                // at a time (RowPerLane) ran whole models' forwards 1.3-2.2x faster than lanes that split K
                // (stories15m 1 row 23 -> ~10 ms, 20 rows 120 -> ~55-60 ms; bench/results). For the
                // RegisterTiled shape, 16 rows per matvec workgroup were fastest on 4096x4096.
                ReduceLanes = sg, ElementLanes = 64, MatVecRows = 16, TileM = 4, TileN = 8, LaneRows = 8,
                FewRowsVariant = MatMulVariant.RowPerLane, AttentionKeysPerLane = true,
                SharedTiledMinRows = int.MaxValue, ManyRowsVariant = MatMulVariant.RowPerLane,
            };
        // matmul_tiled.comp: X and W slices (2 x 16 x 64 floats), row norms (256 + 64), reduction scratch (128).
        bool sharedOk = device.MaxSharedMemory >= (2 * 16 * 64 + 256 + 64 + 128) * 4 && device.MaxWorkgroupInvocations >= 256;
        return new KernelConfig
        {
            // Attention with lanes over the keys here too: lanes over the head dimension walk the context one
            // key at a time with a reduction per key, ~ctx sequential steps a workgroup, where lanes over keys
            // take ctx / lanes steps and reduce once. Reasoned, not yet measured on a GPU (scripts/device/bench.sh).
            AttentionKeysPerLane = true,
            // A decode step has heads x rows workgroups (14 for one row of a 0.5B model): far fewer than a GPU's
            // cores. Up to 16 chunks of the cache each, at least 256 keys a chunk (not yet measured on a GPU).
            AttentionSplitMaxChunks = 16,
            ReduceLanes = Math.Clamp(sg, 32, 64), ElementLanes = 256, MatVecRows = 2, TileM = 2, TileN = 2,
            SharedTiledMinRows = sharedOk ? 16 : int.MaxValue,
            ManyRowsVariant = sharedOk ? MatMulVariant.SharedTiled : MatMulVariant.RegisterTiled,
        };
    }
}
