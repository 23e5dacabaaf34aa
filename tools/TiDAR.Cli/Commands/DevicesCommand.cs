using System.CommandLine;
using Silk.NET.Vulkan;
using TiDAR.Engine.Vulkan;

namespace TiDAR.Cli;

/// <summary>`tidar devices`: every Vulkan device with the properties that choose kernels, and which one would run.</summary>
internal static class DevicesCommand
{
    public static Command Create()
    {
        var command = new Command("devices", "List Vulkan devices and their compute properties; marks the one that would be chosen");
        command.SetAction(parse => CommonOptions.Guard(() =>
        {
            using var instance = new VulkanInstance(parse.GetValue(CommonOptions.Validation) || VulkanInstance.ValidationRequestedByEnvironment);
            DeviceInfo? chosen = null;
            string? choiceError = null;
            try { chosen = instance.Choose(parse.GetValue(CommonOptions.Device)); }
            catch (Exception e) when (e is VulkanException or ArgumentException) { choiceError = e.Message; }
            if (instance.Devices.Count == 0) Console.WriteLine("No Vulkan devices found.");
            foreach (var d in instance.Devices) Print(d, d.Index == chosen?.Index);
            if (choiceError is not null) { Console.Error.WriteLine($"error: {choiceError}"); return 1; }
            return 0;
        }));
        return command;
    }

    private static void Print(DeviceInfo d, bool chosen)
    {
        Console.WriteLine($"Device {d.Index}: {d.Name}{(chosen ? "   <- chosen" : "")}");
        Console.WriteLine($"  type:              {d.TypeText}");
        Console.WriteLine($"  driver:            {d.DriverName} {d.DriverInfo}".TrimEnd());
        Console.WriteLine($"  Vulkan API:        {d.ApiVersionText}{(d.Usable ? "" : $"   (unusable: {d.UnusableReason})")}");
        Console.WriteLine($"  vendor/device id:  0x{d.VendorId:x4} / 0x{d.DeviceId:x4}");
        Console.WriteLine($"  subgroup size:     {d.SubgroupSize}, smallest {d.MinSubgroupSize} (ops: {SubgroupOps(d.SubgroupOperations)})");
        Console.WriteLine($"  fp16:              storage {YesNo(d.Fp16Storage)}, arithmetic {YesNo(d.Fp16Arithmetic)}");
        Console.WriteLine($"  int8:              storage {YesNo(d.Int8Storage)}, arithmetic {YesNo(d.Int8Arithmetic)}");
        Console.WriteLine($"  cooperative matrix: {YesNo(d.CooperativeMatrix)}");
        Console.WriteLine($"  shared memory:     {Bytes(d.MaxSharedMemory)} per workgroup, {d.MaxWorkgroupInvocations} invocations max");
        Console.WriteLine($"  storage buffer:    max range {Bytes(d.MaxStorageBufferRange)}, offset alignment {d.MinStorageBufferOffsetAlignment} B");
        Console.WriteLine($"  max allocation:    {Bytes(d.MaxMemoryAllocationSize)}");
        Console.WriteLine($"  timestamps:        {(d.TimestampValidBits > 0 ? $"{d.TimestampValidBits} bits, {d.TimestampPeriodNs} ns/tick" : "no")}");
        foreach (var h in d.Heaps)
            Console.WriteLine($"  heap {h.Index}:            {Bytes(h.Size)}{(h.DeviceLocal ? " device-local" : "")}{(h.HostVisible ? " host-visible" : "")}");
    }

    private static string YesNo(bool b) => b ? "yes" : "no";

    public static string Bytes(ulong b) => b >= 1UL << 30 ? $"{b / (double)(1UL << 30):F1} GiB"
        : b >= 1UL << 20 ? $"{b / (double)(1UL << 20):F1} MiB"
        : b >= 1UL << 10 ? $"{b / 1024.0:F1} KiB" : $"{b} B";

    private static string SubgroupOps(SubgroupFeatureFlags f)
    {
        var names = new List<string>();
        if (f.HasFlag(SubgroupFeatureFlags.BasicBit)) names.Add("basic");
        if (f.HasFlag(SubgroupFeatureFlags.VoteBit)) names.Add("vote");
        if (f.HasFlag(SubgroupFeatureFlags.ArithmeticBit)) names.Add("arithmetic");
        if (f.HasFlag(SubgroupFeatureFlags.BallotBit)) names.Add("ballot");
        if (f.HasFlag(SubgroupFeatureFlags.ShuffleBit)) names.Add("shuffle");
        if (f.HasFlag(SubgroupFeatureFlags.ShuffleRelativeBit)) names.Add("shuffle-relative");
        if (f.HasFlag(SubgroupFeatureFlags.ClusteredBit)) names.Add("clustered");
        if (f.HasFlag(SubgroupFeatureFlags.QuadBit)) names.Add("quad");
        return names.Count == 0 ? "none" : string.Join(", ", names);
    }
}
