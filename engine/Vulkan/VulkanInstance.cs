using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using Silk.NET.Core.Native;
using Silk.NET.Vulkan;

namespace TiDAR.Engine.Vulkan;

/// <summary>
/// The Vulkan loader, an instance and (optionally) the Khronos validation layer whose messages are
/// collected so that callers (tests above all) can turn them into failures.
/// </summary>
public sealed unsafe class VulkanInstance : IDisposable
{
    public const string ValidationLayerName = "VK_LAYER_KHRONOS_validation";

    public Vk Api { get; }
    public Instance Handle { get; }
    public bool ValidationEnabled { get; }
    public IReadOnlyList<DeviceInfo> Devices { get; }

    private readonly ConcurrentQueue<string> _validationMessages = new();
    private readonly GCHandle _self;
    private readonly DebugUtilsMessengerEXT _messenger;
    private readonly PhysicalDevice[] _physicalDevices;

    /// <summary>True when TIDAR_VALIDATION=1 (or "true") is set.</summary>
    public static bool ValidationRequestedByEnvironment =>
        Environment.GetEnvironmentVariable("TIDAR_VALIDATION") is "1" or "true" or "TRUE" or "yes";

    public VulkanInstance(bool validation)
    {
        try { Api = Vk.GetApi(); }
        catch (Exception e)
        {
            throw new VulkanException($"The Vulkan loader (libvulkan.so.1) could not be loaded: {e.Message}. Install it with: sudo apt-get install -y libvulkan1 mesa-vulkan-drivers");
        }
        ValidationEnabled = validation;
        _self = GCHandle.Alloc(this);

        if (validation && !LayerAvailable(ValidationLayerName))
            throw new VulkanException($"Validation was requested but {ValidationLayerName} is not installed. Install it with: sudo apt-get install -y vulkan-validationlayers");

        var appName = (byte*)SilkMarshal.StringToPtr("tidar");
        var layers = validation ? new[] { ValidationLayerName } : Array.Empty<string>();
        var extensions = new List<string>();
        if (validation) extensions.Add("VK_EXT_debug_utils");
        var layerPtrs = (byte**)SilkMarshal.StringArrayToPtr(layers);
        var extPtrs = (byte**)SilkMarshal.StringArrayToPtr(extensions);
        try
        {
            var app = new ApplicationInfo
            {
                SType = StructureType.ApplicationInfo,
                PApplicationName = appName,
                PEngineName = appName,
                ApiVersion = Vk.Version12,
            };
            var messengerInfo = MessengerCreateInfo();
            var info = new InstanceCreateInfo
            {
                SType = StructureType.InstanceCreateInfo,
                PApplicationInfo = &app,
                EnabledLayerCount = (uint)layers.Length,
                PpEnabledLayerNames = layerPtrs,
                EnabledExtensionCount = (uint)extensions.Count,
                PpEnabledExtensionNames = extPtrs,
                PNext = validation ? &messengerInfo : null,
            };
            Instance instance;
            var result = Api.CreateInstance(&info, null, &instance);
            if (result == Result.ErrorIncompatibleDriver)
                throw new VulkanException("vkCreateInstance", result, "No Vulkan driver found. On Debian/Ubuntu: sudo apt-get install -y mesa-vulkan-drivers libvulkan1");
            VulkanException.Check(result, "vkCreateInstance");
            Handle = instance;

            if (validation)
            {
                var create = (delegate* unmanaged<Instance, DebugUtilsMessengerCreateInfoEXT*, AllocationCallbacks*, DebugUtilsMessengerEXT*, Result>)
                    (void*)Api.GetInstanceProcAddr(Handle, "vkCreateDebugUtilsMessengerEXT").Handle;
                if (create == null) throw new VulkanException("vkCreateDebugUtilsMessengerEXT is not available although validation is on");
                DebugUtilsMessengerEXT messenger;
                VulkanException.Check(create(Handle, &messengerInfo, null, &messenger), "vkCreateDebugUtilsMessengerEXT");
                _messenger = messenger;
            }
        }
        finally
        {
            SilkMarshal.Free((nint)appName);
            SilkMarshal.Free((nint)layerPtrs);
            SilkMarshal.Free((nint)extPtrs);
        }

        uint count = 0;
        VulkanException.Check(Api.EnumeratePhysicalDevices(Handle, &count, null), "vkEnumeratePhysicalDevices");
        _physicalDevices = new PhysicalDevice[count];
        fixed (PhysicalDevice* p = _physicalDevices)
            VulkanException.Check(Api.EnumeratePhysicalDevices(Handle, &count, p), "vkEnumeratePhysicalDevices");
        Devices = _physicalDevices.Select((d, i) => DeviceQuery.Read(Api, d, i)).ToArray();
    }

    public PhysicalDevice PhysicalDevice(int index) => _physicalDevices[index];

    /// <summary>
    /// The device to run on: <paramref name="requested"/> (from --device), else TIDAR_DEVICE, else the best
    /// usable one by type (discrete &gt; integrated &gt; virtual &gt; CPU), ties broken by device-local memory.
    /// </summary>
    public DeviceInfo Choose(int? requested = null)
    {
        if (requested is null && Environment.GetEnvironmentVariable("TIDAR_DEVICE") is { Length: > 0 } env)
        {
            if (!int.TryParse(env, out var parsed))
                throw new ArgumentException($"TIDAR_DEVICE='{env}' is not a device index; run `tidar devices` to list them.");
            requested = parsed;
        }
        if (Devices.Count == 0)
            throw new VulkanException("No Vulkan device found. On Debian/Ubuntu: sudo apt-get install -y mesa-vulkan-drivers libvulkan1");
        if (requested is int n)
        {
            if (n < 0 || n >= Devices.Count)
                throw new ArgumentException($"Device {n} does not exist: there are {Devices.Count} Vulkan device(s), 0..{Devices.Count - 1}; run `tidar devices`.");
            var d = Devices[n];
            if (!d.Usable) throw new VulkanException($"Device {n} ({d.Name}) cannot run the engine: {d.UnusableReason}.");
            return d;
        }
        var best = Devices.Where(d => d.Usable).OrderByDescending(d => d.TypeRank).ThenByDescending(d => d.DeviceLocalBytes).FirstOrDefault();
        return best ?? throw new VulkanException("No usable Vulkan device: " + string.Join("; ", Devices.Select(d => $"{d.Name}: {d.UnusableReason}")));
    }

    /// <summary>Validation messages received since the last call, removed from the queue.</summary>
    public IReadOnlyList<string> TakeValidationMessages()
    {
        var list = new List<string>();
        while (_validationMessages.TryDequeue(out var m)) list.Add(m);
        return list;
    }

    /// <summary>Throws if the validation layer reported anything: used after every submission when validation is on.</summary>
    public void ThrowIfValidationMessages()
    {
        var messages = TakeValidationMessages();
        if (messages.Count > 0)
            throw new VulkanException("Vulkan validation layer reported:\n" + string.Join("\n", messages));
    }

    private bool LayerAvailable(string name)
    {
        uint count = 0;
        Api.EnumerateInstanceLayerProperties(&count, null);
        var props = new LayerProperties[count];
        fixed (LayerProperties* p = props) Api.EnumerateInstanceLayerProperties(&count, p);
        foreach (var prop in props)
            if (SilkMarshal.PtrToString((nint)prop.LayerName) == name) return true;
        return false;
    }

    private DebugUtilsMessengerCreateInfoEXT MessengerCreateInfo() => new()
    {
        SType = StructureType.DebugUtilsMessengerCreateInfoExt,
        MessageSeverity = DebugUtilsMessageSeverityFlagsEXT.WarningBitExt | DebugUtilsMessageSeverityFlagsEXT.ErrorBitExt,
        MessageType = DebugUtilsMessageTypeFlagsEXT.GeneralBitExt | DebugUtilsMessageTypeFlagsEXT.ValidationBitExt,
        PfnUserCallback = new PfnDebugUtilsMessengerCallbackEXT((delegate* unmanaged[Cdecl]<DebugUtilsMessageSeverityFlagsEXT, DebugUtilsMessageTypeFlagsEXT, DebugUtilsMessengerCallbackDataEXT*, void*, Silk.NET.Core.Bool32>)(delegate* unmanaged[Cdecl]<DebugUtilsMessageSeverityFlagsEXT, DebugUtilsMessageTypeFlagsEXT, DebugUtilsMessengerCallbackDataEXT*, void*, uint>)&OnValidationMessage),
        PUserData = (void*)GCHandle.ToIntPtr(_self),
    };

    [UnmanagedCallersOnly(CallConvs = new[] { typeof(System.Runtime.CompilerServices.CallConvCdecl) })]
    private static uint OnValidationMessage(DebugUtilsMessageSeverityFlagsEXT severity, DebugUtilsMessageTypeFlagsEXT type,
        DebugUtilsMessengerCallbackDataEXT* data, void* userData)
    {
        if (userData != null && GCHandle.FromIntPtr((nint)userData).Target is VulkanInstance self)
        {
            var text = SilkMarshal.PtrToString((nint)data->PMessage) ?? "(no text)";
            self._validationMessages.Enqueue($"[{severity}] {text}");
        }
        return 0; // VK_FALSE: never abort the call that triggered the message
    }

    public void Dispose()
    {
        if (_messenger.Handle != 0)
        {
            var destroy = (delegate* unmanaged<Instance, DebugUtilsMessengerEXT, AllocationCallbacks*, void>)
                (void*)Api.GetInstanceProcAddr(Handle, "vkDestroyDebugUtilsMessengerEXT").Handle;
            if (destroy != null) destroy(Handle, _messenger, null);
        }
        if (Handle.Handle != 0) Api.DestroyInstance(Handle, null);
        if (_self.IsAllocated) _self.Free();
    }
}
