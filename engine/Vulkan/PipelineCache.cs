using System.Reflection;
using Silk.NET.Core.Native;
using Silk.NET.Vulkan;
using VkPipelineCache = Silk.NET.Vulkan.PipelineCache;

namespace TiDAR.Engine.Vulkan;

/// <summary>A compiled compute pipeline: one shader with one set of specialization constants.</summary>
public sealed class ComputePipeline
{
    public required string Shader { get; init; }
    public required Pipeline Handle { get; init; }
    public required PipelineLayout Layout { get; init; }
    public required DescriptorSetLayout SetLayout { get; init; }
    public required int Bindings { get; init; }
    public required int PushConstantBytes { get; init; }
    public required uint[] Specialization { get; init; }
    public required bool OneSubgroup { get; init; }
    private string? _label;
    public string Label => _label ??= Specialization.Length == 0 ? Shader : $"{Shader}[{string.Join(",", Specialization)}]";

    internal bool Matches(int bindings, int pushBytes, bool oneSubgroup, ReadOnlySpan<uint> spec) =>
        Bindings == bindings && PushConstantBytes == pushBytes && OneSubgroup == oneSubgroup && spec.SequenceEqual(Specialization);
}

/// <summary>
/// Pipelines cached per (shader, specialization constants) in memory, and the driver's compiled code in
/// a VkPipelineCache kept on disk per device and driver, so later runs skip shader compilation.
/// </summary>
public sealed unsafe class PipelineCache : IDisposable
{
    private readonly GpuDevice _device;
    // Per shader, its pipelines (a handful of specializations each): a lookup allocates nothing.
    private readonly Dictionary<string, List<ComputePipeline>> _pipelines = new();
    private readonly Dictionary<string, ShaderModule> _modules = new();
    private readonly VkPipelineCache _cache;
    private readonly string? _cacheFile;
    private readonly int _loadedBytes;

    internal PipelineCache(GpuDevice device, string? cacheDir)
    {
        _device = device;
        cacheDir ??= DefaultCacheDir();
        if (cacheDir.Length > 0)
        {
            var info = device.Info;
            _cacheFile = Path.Combine(cacheDir, $"pipelines-{info.VendorId:x4}-{info.DeviceId:x4}-{info.DriverVersion:x8}-{Convert.ToHexString(info.PipelineCacheUuid)}.bin");
        }
        byte[] initial = LoadValidated();
        _loadedBytes = initial.Length;
        fixed (byte* data = initial)
        {
            var createInfo = new PipelineCacheCreateInfo
            {
                SType = StructureType.PipelineCacheCreateInfo,
                InitialDataSize = (nuint)initial.Length,
                PInitialData = initial.Length > 0 ? data : null,
            };
            VkPipelineCache cache;
            VulkanException.Check(device.Api.CreatePipelineCache(device.Handle, &createInfo, null, &cache), "vkCreatePipelineCache");
            _cache = cache;
        }
    }

    /// <summary>
    /// Specialization constant id that every pipeline gets: 1 when the caller knows each workgroup is a single
    /// subgroup (shaders/common.glsl then compiles its workgroup reductions without shared memory or barriers).
    /// </summary>
    public const uint OneSubgroupConstantId = 100;

    public int PipelinesCreated => _pipelines.Values.Sum(l => l.Count);
    public bool LoadedFromDisk => _loadedBytes > 0;
    public string? CacheFile => _cacheFile;

    /// <summary>The engine's cache folder: $XDG_CACHE_HOME/tidar, else ~/.cache/tidar.</summary>
    public static string DefaultCacheDir()
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var root = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(string.IsNullOrEmpty(home) ? Path.GetTempPath() : home, ".cache");
        return Path.Combine(root, "tidar");
    }

    /// <summary>Reads the cache file only if its header matches this device and driver; drivers are not all robust to foreign data.</summary>
    private byte[] LoadValidated()
    {
        if (_cacheFile is null || !File.Exists(_cacheFile)) return Array.Empty<byte>();
        try
        {
            var data = File.ReadAllBytes(_cacheFile);
            if (data.Length < 32) return Array.Empty<byte>();
            uint headerSize = BitConverter.ToUInt32(data, 0), version = BitConverter.ToUInt32(data, 4);
            uint vendor = BitConverter.ToUInt32(data, 8), deviceId = BitConverter.ToUInt32(data, 12);
            bool ok = headerSize >= 32 && headerSize <= data.Length && version == 1
                && vendor == _device.Info.VendorId && deviceId == _device.Info.DeviceId
                && data.AsSpan(16, 16).SequenceEqual(_device.Info.PipelineCacheUuid);
            return ok ? data : Array.Empty<byte>();
        }
        catch (IOException) { return Array.Empty<byte>(); }
        catch (UnauthorizedAccessException) { return Array.Empty<byte>(); }
    }

    /// <summary>The pipeline for <paramref name="shader"/> (name of shaders/NAME.comp) with these specialization constants (ids 0..n-1, 32-bit each).</summary>
    public ComputePipeline Get(string shader, int bindings, int pushConstantBytes, params ReadOnlySpan<uint> specialization) =>
        Get(shader, bindings, pushConstantBytes, oneSubgroup: false, specialization);

    /// <summary>As above; <paramref name="oneSubgroup"/> promises that every workgroup of this pipeline is one subgroup.</summary>
    public ComputePipeline Get(string shader, int bindings, int pushConstantBytes, bool oneSubgroup, params ReadOnlySpan<uint> specialization)
    {
        if (!_pipelines.TryGetValue(shader, out var list)) _pipelines[shader] = list = new List<ComputePipeline>();
        foreach (var candidate in list)
            if (candidate.Matches(bindings, pushConstantBytes, oneSubgroup, specialization)) return candidate;
        if (pushConstantBytes > _device.Info.MaxPushConstantsSize)
            throw new VulkanException($"Shader {shader} needs {pushConstantBytes} bytes of push constants; the device allows {_device.Info.MaxPushConstantsSize}.");
        var p = Create(shader, bindings, pushConstantBytes, specialization.ToArray(), oneSubgroup);
        list.Add(p);
        return p;
    }

    private ShaderModule Module(string shader)
    {
        if (_modules.TryGetValue(shader, out var m)) return m;
        var code = LoadSpirv(shader);
        fixed (byte* c = code)
        {
            var info = new ShaderModuleCreateInfo { SType = StructureType.ShaderModuleCreateInfo, CodeSize = (nuint)code.Length, PCode = (uint*)c };
            VulkanException.Check(_device.Api.CreateShaderModule(_device.Handle, &info, null, &m), "vkCreateShaderModule", shader);
        }
        _modules[shader] = m;
        return m;
    }

    /// <summary>SPIR-V embedded by the build from shaders/NAME.comp.</summary>
    public static byte[] LoadSpirv(string shader)
    {
        using var stream = typeof(PipelineCache).Assembly.GetManifestResourceStream($"spirv/{shader}.spv")
            ?? throw new InvalidOperationException($"No compiled shader '{shader}' in the engine assembly (is shaders/{shader}.comp present?).");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    private ComputePipeline Create(string shader, int bindings, int pushBytes, uint[] spec, bool oneSubgroup)
    {
        var vk = _device.Api;
        var dev = _device.Handle;
        var layoutBindings = new DescriptorSetLayoutBinding[bindings];
        for (int i = 0; i < bindings; i++)
            layoutBindings[i] = new DescriptorSetLayoutBinding
            {
                Binding = (uint)i,
                DescriptorType = DescriptorType.StorageBuffer,
                DescriptorCount = 1,
                StageFlags = ShaderStageFlags.ComputeBit,
            };
        DescriptorSetLayout setLayout;
        fixed (DescriptorSetLayoutBinding* b = layoutBindings)
        {
            var info = new DescriptorSetLayoutCreateInfo { SType = StructureType.DescriptorSetLayoutCreateInfo, BindingCount = (uint)bindings, PBindings = b };
            VulkanException.Check(vk.CreateDescriptorSetLayout(dev, &info, null, &setLayout), "vkCreateDescriptorSetLayout", shader);
        }
        var range = new PushConstantRange { StageFlags = ShaderStageFlags.ComputeBit, Offset = 0, Size = (uint)pushBytes };
        var layoutInfo = new PipelineLayoutCreateInfo
        {
            SType = StructureType.PipelineLayoutCreateInfo,
            SetLayoutCount = 1,
            PSetLayouts = &setLayout,
            PushConstantRangeCount = pushBytes > 0 ? 1u : 0u,
            PPushConstantRanges = pushBytes > 0 ? &range : null,
        };
        PipelineLayout layout;
        VulkanException.Check(vk.CreatePipelineLayout(dev, &layoutInfo, null, &layout), "vkCreatePipelineLayout", shader);

        // Ids 0..n-1 are the caller's; id 100 says whether a workgroup is one subgroup (shaders/common.glsl).
        uint[] values = [.. spec, oneSubgroup ? 1u : 0u];
        var entries = new SpecializationMapEntry[values.Length];
        for (int i = 0; i < values.Length; i++)
            entries[i] = new SpecializationMapEntry { ConstantID = i == spec.Length ? OneSubgroupConstantId : (uint)i, Offset = (uint)(i * 4), Size = 4 };
        var entryName = (byte*)SilkMarshal.StringToPtr("main");
        try
        {
            fixed (SpecializationMapEntry* e = entries)
            fixed (uint* data = values)
            {
                var specInfo = new SpecializationInfo { MapEntryCount = (uint)values.Length, PMapEntries = e, DataSize = (nuint)(values.Length * 4), PData = data };
                var stage = new PipelineShaderStageCreateInfo
                {
                    SType = StructureType.PipelineShaderStageCreateInfo,
                    Stage = ShaderStageFlags.ComputeBit,
                    Module = Module(shader),
                    PName = entryName,
                    PSpecializationInfo = &specInfo,
                };
                var info = new ComputePipelineCreateInfo { SType = StructureType.ComputePipelineCreateInfo, Stage = stage, Layout = layout };
                Pipeline pipeline;
                VulkanException.Check(vk.CreateComputePipelines(dev, _cache, 1, &info, null, &pipeline), "vkCreateComputePipelines", $"{shader} [{string.Join(",", spec)}]");
                return new ComputePipeline
                {
                    Shader = shader, Handle = pipeline, Layout = layout, SetLayout = setLayout,
                    Bindings = bindings, PushConstantBytes = pushBytes, Specialization = spec, OneSubgroup = oneSubgroup,
                };
            }
        }
        finally { SilkMarshal.Free((nint)entryName); }
    }

    /// <summary>Writes the driver's cache to disk atomically (temp file + rename); failures only cost a recompile next time.</summary>
    public void Save()
    {
        if (_cacheFile is null || _pipelines.Count == 0) return;
        try
        {
            nuint size = 0;
            VulkanException.Check(_device.Api.GetPipelineCacheData(_device.Handle, _cache, &size, null), "vkGetPipelineCacheData");
            var data = new byte[(int)size];
            fixed (byte* d = data) VulkanException.Check(_device.Api.GetPipelineCacheData(_device.Handle, _cache, &size, d), "vkGetPipelineCacheData");
            Directory.CreateDirectory(Path.GetDirectoryName(_cacheFile)!);
            var tmp = _cacheFile + $".{Environment.ProcessId}.tmp";
            File.WriteAllBytes(tmp, data.AsSpan(0, (int)size).ToArray());
            File.Move(tmp, _cacheFile, overwrite: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    public void Dispose()
    {
        Save();
        var vk = _device.Api;
        foreach (var p in _pipelines.Values.SelectMany(l => l))
        {
            vk.DestroyPipeline(_device.Handle, p.Handle, null);
            vk.DestroyPipelineLayout(_device.Handle, p.Layout, null);
            vk.DestroyDescriptorSetLayout(_device.Handle, p.SetLayout, null);
        }
        foreach (var m in _modules.Values) vk.DestroyShaderModule(_device.Handle, m, null);
        vk.DestroyPipelineCache(_device.Handle, _cache, null);
        _pipelines.Clear();
        _modules.Clear();
    }
}
