using TiDAR.Engine.Vulkan;

namespace TiDAR.Engine.Kernels;

/// <summary>Which matmul kernel runs a product.</summary>
public enum MatMulVariant
{
    /// <summary>matmul.comp: register tile, lanes split K, no shared memory (CPU drivers; any M).</summary>
    RegisterTiled,
    /// <summary>matmul_tiled.comp: 64x64 shared-memory tiles (real GPUs, many rows).</summary>
    SharedTiled,
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
    /// <summary>From this many activation rows on, products use <see cref="ManyRowsVariant"/>.</summary>
    public required int SharedTiledMinRows { get; init; }
    public required MatMulVariant ManyRowsVariant { get; init; }

    public static KernelConfig For(DeviceInfo device)
    {
        uint sg = Math.Max(1, device.SubgroupSize);
        if (device.IsCpu)
            return new KernelConfig
            {
                // Measured on lavapipe (2 cores, 4096x4096): 16 rows per matvec workgroup and 8x8 tiles
                // were fastest (bench/results); wider workgroups only add reduction work.
                ReduceLanes = sg, ElementLanes = 64, MatVecRows = 16, TileM = 8, TileN = 8,
                SharedTiledMinRows = int.MaxValue, ManyRowsVariant = MatMulVariant.RegisterTiled,
            };
        // matmul_tiled.comp: X and W slices (2 x 16 x 64 floats), row norms (256 + 64), reduction scratch (128).
        bool sharedOk = device.MaxSharedMemory >= (2 * 16 * 64 + 256 + 64 + 128) * 4 && device.MaxWorkgroupInvocations >= 256;
        return new KernelConfig
        {
            ReduceLanes = Math.Clamp(sg, 32, 64), ElementLanes = 256, MatVecRows = 2, TileM = 2, TileN = 2,
            SharedTiledMinRows = sharedOk ? 16 : int.MaxValue,
            ManyRowsVariant = sharedOk ? MatMulVariant.SharedTiled : MatMulVariant.RegisterTiled,
        };
    }
}
