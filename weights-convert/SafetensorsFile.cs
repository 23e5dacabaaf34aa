using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;

namespace TiDAR.WeightsConvert;

/// <summary>
/// A memory-mapped .safetensors file: an 8-byte little-endian header length, a JSON header, then the data
/// section the header's offsets point into. The whole header is validated against the file size when the file
/// is opened (<see cref="InvalidDataException"/> otherwise); reading a tensor of a dtype other than F32, F16 or
/// BF16 throws <see cref="NotSupportedException"/>.
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private byte* _base;
    private bool _disposed;
    private readonly Dictionary<string, SafetensorsTensorInfo> _byName;

    public string Path { get; }
    public long FileSize { get; }
    /// <summary>Absolute file offset of the data section (8 + header length).</summary>
    public long DataOffset { get; }
    /// <summary>Tensors in header order.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }
    /// <summary>The header's "__metadata__" strings (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    private SafetensorsFile(string path, long size, long dataOffset, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* b,
        IReadOnlyList<SafetensorsTensorInfo> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        FileSize = size;
        DataOffset = dataOffset;
        _map = map;
        _view = view;
        _base = b;
        Tensors = tensors;
        Metadata = metadata;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    public static SafetensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("SafetensorsFile reads little-endian data on little-endian machines only.");
        string full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FileNotFoundException($"safetensors file '{full}' does not exist.", full);
        var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        bool pointer = false;
        try
        {
            long size = stream.Length;
            if (size < 8)
                throw SafetensorsHeader.Bad(full, $"the file is {size} bytes long, shorter than the 8-byte header length; it is truncated or not a safetensors file");
            map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* b = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref b);
            pointer = true;
            b += view.PointerOffset;

            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(b, 8));
            if (headerLength > (ulong)(size - 8))
                throw SafetensorsHeader.Bad(full, $"the header length {headerLength} runs past the end of the {size}-byte file; it is truncated or not a safetensors file");
            if (headerLength > SafetensorsHeader.MaxHeaderBytes)
                throw SafetensorsHeader.Bad(full, $"the header length {headerLength} exceeds the {SafetensorsHeader.MaxHeaderBytes}-byte limit");
            long dataOffset = 8 + (long)headerLength;
            var json = new ReadOnlySpan<byte>(b + 8, (int)headerLength).ToArray();
            var (tensors, metadata) = SafetensorsHeader.Parse(json, size - dataOffset, full);
            return new SafetensorsFile(full, size, dataOffset, map, view, b, tensors, metadata);
        }
        catch
        {
            if (pointer) view!.SafeMemoryMappedViewHandle.ReleasePointer();
            view?.Dispose();
            map?.Dispose();
            stream.Dispose();
            throw;
        }
    }

    public bool Contains(string name) => _byName.ContainsKey(name);

    public SafetensorsTensorInfo? Find(string name) => _byName.GetValueOrDefault(name);

    public SafetensorsTensorInfo Tensor(string name) => _byName.TryGetValue(name, out var t) ? t
        : throw new KeyNotFoundException($"safetensors file '{Path}' has no tensor named '{name}'.");

    /// <summary>Throws <see cref="NotSupportedException"/> naming the tensor and its dtype unless it is F32, F16 or BF16.</summary>
    public SafetensorsDType RequireSupported(SafetensorsTensorInfo t)
    {
        if (t.DType is { } d && d.IsSupported()) return d;
        throw new NotSupportedException($"tensor '{t.Name}' in '{Path}' has dtype {t.DTypeName}, which cannot be converted; supported: {SafetensorsDTypes.SupportedList}.");
    }

    /// <summary>Bytes [<paramref name="byteOffset"/>, + <paramref name="byteCount"/>) of a tensor's data (any size of
    /// tensor, windows below 2 GiB). Valid until <see cref="Dispose"/>.</summary>
    public ReadOnlySpan<byte> Data(SafetensorsTensorInfo t, long byteOffset, int byteCount)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(t);
        if (!_byName.TryGetValue(t.Name, out var own) || !ReferenceEquals(own, t))
            throw new ArgumentException($"tensor '{t.Name}' does not belong to '{Path}'.", nameof(t));
        RequireSupported(t);
        if (byteOffset < 0 || byteCount < 0 || byteOffset > t.ByteCount || byteCount > t.ByteCount - byteOffset)
            throw new ArgumentOutOfRangeException(nameof(byteOffset), $"bytes [{byteOffset}, {byteOffset} + {byteCount}) are not inside tensor '{t.Name}' of {t.ByteCount} bytes");
        return new ReadOnlySpan<byte>(_base + DataOffset + t.Begin + byteOffset, byteCount);
    }

    /// <summary>A tensor's whole data; throws <see cref="InvalidOperationException"/> at 2 GiB or more (use the windowed overload).</summary>
    public ReadOnlySpan<byte> Data(SafetensorsTensorInfo t)
    {
        ArgumentNullException.ThrowIfNull(t);
        if (t.ByteCount > int.MaxValue)
            throw new InvalidOperationException($"tensor '{t.Name}' is {t.ByteCount} bytes, too large for one span; read it in windows.");
        return Data(t, 0, (int)t.ByteCount);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_base != null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _base = null;
        }
        _view.Dispose();
        _map.Dispose();
    }
}
