using System.Buffers.Binary;
using System.Collections.ObjectModel;
using System.IO.MemoryMappedFiles;
using System.Text;

namespace TiDAR.Engine.Gguf;

/// <summary>
/// A GGUF (v2 or v3) file, memory-mapped read-only. Everything in the header is validated by
/// <see cref="Open"/> before the file is handed out, so a truncated, corrupt or hostile file fails there
/// with a <see cref="GgufFormatException"/> and every tensor the file lists lies inside it.
///
/// Layout (little-endian): "GGUF", u32 version, u64 tensor_count, u64 kv_count, kv_count × (string key,
/// u32 value type, value), tensor_count × (string name, u32 n_dims, n_dims × u64 ne, u32 ggml type,
/// u64 offset), padding to general.alignment (default 32), then the data section. A string is u64 byte
/// length + UTF-8 bytes (no terminator); an array is u32 element type + u64 count + the elements.
///
/// Spans returned by <see cref="TensorData(GgufTensorInfo)"/> point into the mapping: they are valid until
/// <see cref="Dispose"/>.
/// </summary>
public sealed unsafe class GgufFile : IDisposable
{
    public const uint DefaultAlignment = 32;
    private const int HeaderBytes = 24;                  // magic, version, tensor_count, kv_count
    private const int MinKvBytes = 8 + 4 + 1;            // key length, value type, smallest value
    private const int MinTensorInfoBytes = 8 + 4 + 8 + 4 + 8; // name length, n_dims, one ne, type, offset
    private const long MaxStringBytes = 1L << 30;        // as gguf.cpp's GGUF_MAX_STRING_LENGTH
    public const int MaxDimensions = 4;                  // GGML_MAX_DIMS

    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private byte* _base;
    private bool _disposed;

    private readonly OrderedDictionary<string, object> _metadata = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _keyOffsets = new(StringComparer.Ordinal);
    private readonly List<GgufTensorInfo> _tensors = new();
    private readonly Dictionary<string, GgufTensorInfo> _byName = new(StringComparer.Ordinal);

    public string Path { get; }
    public uint Version { get; private set; }
    public ulong Alignment { get; private set; } = DefaultAlignment;
    /// <summary>Absolute file offset of the data section (tensor offsets are relative to it).</summary>
    public long DataOffset { get; private set; }
    public long FileSize { get; }
    /// <summary>The key/value pairs, enumerated in file order.</summary>
    public IReadOnlyDictionary<string, object> Metadata { get; }
    /// <summary>The tensors, in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    private GgufFile(string path, long size, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* b)
    {
        Path = path;
        FileSize = size;
        _map = map;
        _view = view;
        _base = b;
        Metadata = new ReadOnlyDictionary<string, object>(_metadata);
        Tensors = _tensors.AsReadOnly();
    }

    /// <summary>Maps <paramref name="path"/> and validates its whole header; throws <see cref="GgufFormatException"/>
    /// for anything that is not a well-formed GGUF v2/v3 file.</summary>
    public static GgufFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("GgufFile reads little-endian GGUF files on little-endian machines only.");
        string full = System.IO.Path.GetFullPath(path);
        var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        GgufFile? file = null;
        try
        {
            long size = stream.Length;
            if (size < HeaderBytes)
            {
                // Too short to map usefully; read what there is so the message can say what it is.
                var head = new byte[(int)size];
                stream.ReadExactly(head);
                CheckMagic(full, head);
                throw new GgufFormatException(full, size, $"the file is {size} bytes long, shorter than the {HeaderBytes}-byte GGUF header (magic, version, tensor count, metadata count); it is truncated");
            }
            map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* b = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref b);
            file = new GgufFile(full, size, map, view, b + view.PointerOffset);
            file.Parse();
            return file;
        }
        catch
        {
            if (file is not null) file.Dispose();
            else
            {
                view?.Dispose();
                map?.Dispose();
            }
            stream.Dispose();
            throw;
        }
    }

    // ------------------------------------------------------------------ parsing

    private static void CheckMagic(string path, ReadOnlySpan<byte> head)
    {
        int n = Math.Min(4, head.Length);
        if (head[..n].SequenceEqual("GGUF"u8[..n]) && n == 4) return;
        if (n < 4 && head[..n].SequenceEqual("GGUF"u8[..n]))
            throw new GgufFormatException(path, n, $"the file is {head.Length} bytes long and ends inside the GGUF magic; it is truncated");
        string hex = Convert.ToHexString(head[..n]);
        string ascii = new(head[..n].ToArray().Select(c => c is >= 0x20 and < 0x7F ? (char)c : '.').ToArray());
        string legacy = ascii switch
        {
            "lmgg" => " This is a legacy GGML file; convert it to GGUF.",
            "fmgg" => " This is a legacy GGMF file; convert it to GGUF.",
            "tjgg" => " This is a legacy GGJT file; convert it to GGUF.",
            "FUGG" => " The bytes are GGUF reversed: a big-endian file or a byte-swapped copy, which is not supported.",
            _ => "",
        };
        throw new GgufFormatException(path, 0, $"not a GGUF file: it starts with bytes {hex} (\"{ascii}\"), not the magic \"GGUF\" (47475546).{legacy}");
    }

    private void Parse()
    {
        var r = new Reader(this);
        CheckMagic(Path, new ReadOnlySpan<byte>(_base, 4));
        r.Pos = 4;
        uint version = r.U32("version");
        if (version == 1)
            throw Fail(4, "GGUF version 1 is not supported (it used 32-bit counts and lengths); re-convert the model with a current converter to GGUF v3");
        if (version is not (2 or 3))
        {
            uint swapped = BinaryPrimitives.ReverseEndianness(version);
            if (swapped is >= 1 and <= 3)
                throw Fail(4, $"version field reads {version} little-endian but {swapped} big-endian: big-endian GGUF files are not supported");
            throw Fail(4, $"unsupported GGUF version {version}; only versions 2 and 3 are read");
        }
        Version = version;

        ulong tensorCount = r.U64("tensor count");
        ulong kvCount = r.U64("metadata key/value count");
        long afterHeader = r.Pos;
        if (kvCount > (ulong)(FileSize - afterHeader) / MinKvBytes)
            throw Fail(16, $"metadata count {kvCount} is impossible: the {FileSize - afterHeader} bytes after the header hold at most {(FileSize - afterHeader) / MinKvBytes} key/value pairs; the file is truncated or the count is corrupt");
        if (tensorCount > (ulong)(FileSize - afterHeader) / MinTensorInfoBytes)
            throw Fail(8, $"tensor count {tensorCount} is impossible: the {FileSize - afterHeader} bytes after the header hold at most {(FileSize - afterHeader) / MinTensorInfoBytes} tensor descriptions; the file is truncated or the count is corrupt");

        // --- key/value pairs
        for (ulong i = 0; i < kvCount; i++)
        {
            long at = r.Pos;
            string key = r.String($"key of metadata entry {i}", strict: true);
            if (_metadata.ContainsKey(key))
                throw Fail(at, $"metadata key '{key}' appears twice (entries {_metadata.IndexOf(key)} and {i})");
            long typeAt = r.Pos;
            uint type = r.U32($"value type of metadata key '{key}'");
            if (type >= GgufValueTypes.Count)
                throw Fail(typeAt, $"metadata key '{key}' has value type id {type}; valid ids are 0-{GgufValueTypes.Count - 1}");
            object value = r.Value((GgufValueType)type, key, 0);
            _metadata.Add(key, value);
            _keyOffsets[key] = at;
        }

        // --- alignment
        if (_metadata.TryGetValue("general.alignment", out var alignValue))
        {
            long at = _keyOffsets["general.alignment"];
            if (alignValue is not uint a)
                throw Fail(at, $"general.alignment must be a uint32 but holds {GgufValueTypes.Describe(alignValue)}");
            if (a == 0 || (a & (a - 1)) != 0)
                throw Fail(at, $"general.alignment is {a}; it must be a non-zero power of two");
            Alignment = a;
        }

        // --- tensor descriptions
        if (tensorCount > (ulong)(FileSize - r.Pos) / MinTensorInfoBytes)
            throw Fail(8, $"tensor count {tensorCount} is impossible: the {FileSize - r.Pos} bytes after the metadata hold at most {(FileSize - r.Pos) / MinTensorInfoBytes} tensor descriptions; the file is truncated or the count is corrupt");
        var offsetFieldAt = new List<long>();
        for (ulong i = 0; i < tensorCount; i++)
        {
            long at = r.Pos;
            string name = r.String($"name of tensor {i}", strict: true);
            if (_byName.ContainsKey(name))
                throw Fail(at, $"tensor name '{name}' appears twice (tensors {_tensors.IndexOf(_byName[name])} and {i})");
            long dimsAt = r.Pos;
            uint nDims = r.U32($"dimension count of tensor '{name}'");
            if (nDims is 0 or > MaxDimensions)
                throw Fail(dimsAt, $"tensor '{name}' has {nDims} dimensions; ggml tensors have 1 to {MaxDimensions}");
            var dims = new ulong[nDims];
            ulong elements = 1;
            for (int d = 0; d < nDims; d++)
            {
                long neAt = r.Pos;
                ulong ne = r.U64($"dimension {d} of tensor '{name}'");
                if (ne == 0 || ne > long.MaxValue)
                    throw Fail(neAt, $"tensor '{name}' dimension {d} is {ne}; dimensions must be between 1 and {long.MaxValue}");
                if (elements > long.MaxValue / ne)
                    throw Fail(neAt, $"tensor '{name}' has too many elements: the product of its dimensions {string.Join(" x ", dims[..d])} x {ne} exceeds 2^63");
                elements *= ne;
                dims[d] = ne;
            }
            long typeAt = r.Pos;
            uint typeId = r.U32($"type of tensor '{name}'");
            if (!GgmlTypeInfo.IsKnown(typeId))
                throw Fail(typeAt, $"tensor '{name}' has ggml type id {typeId}, which is not a known ggml type");
            var type = (GgmlType)typeId;
            if (dims[0] % (ulong)type.BlockSize() != 0)
                throw Fail(dimsAt + 4, $"tensor '{name}' of type {type} has a first dimension of {dims[0]}, not a multiple of the {type.BlockSize()}-element block");
            long offsetAt = r.Pos;
            offsetFieldAt.Add(offsetAt);
            ulong offset = r.U64($"data offset of tensor '{name}'");
            if (offset % Alignment != 0)
                throw Fail(offsetAt, $"tensor '{name}' has data offset {offset}, which is not a multiple of the alignment {Alignment}");
            var info = new GgufTensorInfo(name, dims, type, offset);
            try { _ = info.ByteSize; }
            catch (GgufFormatException e) { throw new GgufFormatException(Path, dimsAt, e.Message, e); }
            _tensors.Add(info);
            _byName.Add(name, info);
        }

        // --- data section
        long headerEnd = r.Pos;
        long dataOffset = (long)(((ulong)headerEnd + Alignment - 1) / Alignment * Alignment);
        DataOffset = dataOffset;
        if (_tensors.Count > 0 && dataOffset > FileSize)
            throw Fail(headerEnd, $"the data section would start at {dataOffset} (the header end {headerEnd} rounded up to the alignment {Alignment}) but the file is only {FileSize} bytes; it is truncated");
        ulong dataBytes = dataOffset <= FileSize ? (ulong)(FileSize - dataOffset) : 0;
        for (int i = 0; i < _tensors.Count; i++)
        {
            var t = _tensors[i];
            ulong size = t.ByteSize;
            if (t.Offset > dataBytes || size > dataBytes - t.Offset)
                throw Fail(offsetFieldAt[i], $"tensor '{t.Name}' ({t.Type} {t.Shape()}, {size} bytes at data offset {t.Offset}) ends at file offset {(decimal)dataOffset + t.Offset + size}, past the end of the {FileSize}-byte file; it is truncated or corrupt");
        }
    }

    private GgufFormatException Fail(long offset, string problem) => new(Path, offset, problem);

    /// <summary>A bounds-checked cursor over the mapping.</summary>
    private struct Reader(GgufFile f)
    {
        public long Pos;

        private long Need(long n, string what)
        {
            if (n < 0 || n > f.FileSize - Pos)
                throw f.Fail(Pos, $"the file ends while reading {what}: {n} bytes needed, {f.FileSize - Pos} left");
            long at = Pos;
            Pos += n;
            return at;
        }

        public uint U32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(f._base + Need(4, what), 4));
        public ulong U64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(f._base + Need(8, what), 8));

        public string String(string what, bool strict)
        {
            long at = Pos;
            ulong len = U64($"the length of {what}");
            if (len > (ulong)(f.FileSize - Pos))
                throw f.Fail(at, $"{what} claims {len} bytes but only {f.FileSize - Pos} remain in the file");
            if (len > MaxStringBytes)
                throw f.Fail(at, $"{what} is {len} bytes long, over the {MaxStringBytes}-byte limit");
            var bytes = new ReadOnlySpan<byte>(f._base + Need((long)len, what), (int)len);
            if (!strict) return Encoding.UTF8.GetString(bytes); // invalid sequences become U+FFFD
            try { return StrictUtf8.GetString(bytes); }
            catch (DecoderFallbackException e)
            {
                throw new GgufFormatException(f.Path, at, $"{what} is not valid UTF-8", e);
            }
        }

        public object Value(GgufValueType type, string key, int depth)
        {
            string what = $"the value of '{key}'";
            switch (type)
            {
                case GgufValueType.UInt8: return f._base[Need(1, what)];
                case GgufValueType.Int8: return (sbyte)f._base[Need(1, what)];
                case GgufValueType.Bool: return f._base[Need(1, what)] != 0;
                case GgufValueType.UInt16: return BinaryPrimitives.ReadUInt16LittleEndian(Span(2, what));
                case GgufValueType.Int16: return BinaryPrimitives.ReadInt16LittleEndian(Span(2, what));
                case GgufValueType.UInt32: return BinaryPrimitives.ReadUInt32LittleEndian(Span(4, what));
                case GgufValueType.Int32: return BinaryPrimitives.ReadInt32LittleEndian(Span(4, what));
                case GgufValueType.Float32: return BinaryPrimitives.ReadSingleLittleEndian(Span(4, what));
                case GgufValueType.UInt64: return BinaryPrimitives.ReadUInt64LittleEndian(Span(8, what));
                case GgufValueType.Int64: return BinaryPrimitives.ReadInt64LittleEndian(Span(8, what));
                case GgufValueType.Float64: return BinaryPrimitives.ReadDoubleLittleEndian(Span(8, what));
                case GgufValueType.String: return String(what, strict: false);
                case GgufValueType.Array: return Array(key, depth);
                default: throw f.Fail(Pos, $"metadata key '{key}' has value type id {(uint)type}; valid ids are 0-{GgufValueTypes.Count - 1}");
            }
        }

        private ReadOnlySpan<byte> Span(int n, string what) => new(f._base + Need(n, what), n);

        private object Array(string key, int depth)
        {
            long at = Pos;
            uint et = U32($"the element type of array '{key}'");
            if (et >= GgufValueTypes.Count)
                throw f.Fail(at, $"array '{key}' has element type id {et}; valid ids are 0-{GgufValueTypes.Count - 1}");
            var elementType = (GgufValueType)et;
            long countAt = Pos;
            ulong count = U64($"the element count of array '{key}'");
            int min = GgufValueTypes.MinSize(elementType);
            ulong left = (ulong)(f.FileSize - Pos);
            if (count > left / (ulong)min)
                throw f.Fail(countAt, $"array '{key}' claims {count} {GgufValueTypes.Name(elementType)} elements but the {left} bytes left in the file hold at most {left / (ulong)min}");
            if (count > (ulong)System.Array.MaxLength)
                throw f.Fail(countAt, $"array '{key}' has {count} elements, more than a .NET array can hold ({System.Array.MaxLength})");
            int n = (int)count;
            if (elementType == GgufValueType.Array && depth + 1 >= GgufValueTypes.MaxArrayDepth)
                throw f.Fail(at, $"array '{key}' nests arrays more than {GgufValueTypes.MaxArrayDepth} deep");
            switch (elementType)
            {
                case GgufValueType.UInt8: return Copy<byte>(n, key);
                case GgufValueType.Int8: return Copy<sbyte>(n, key);
                case GgufValueType.UInt16: return Copy<ushort>(n, key);
                case GgufValueType.Int16: return Copy<short>(n, key);
                case GgufValueType.UInt32: return Copy<uint>(n, key);
                case GgufValueType.Int32: return Copy<int>(n, key);
                case GgufValueType.Float32: return Copy<float>(n, key);
                case GgufValueType.UInt64: return Copy<ulong>(n, key);
                case GgufValueType.Int64: return Copy<long>(n, key);
                case GgufValueType.Float64: return Copy<double>(n, key);
                case GgufValueType.Bool:
                {
                    var src = f._base + Need(n, $"array '{key}'");
                    var a = new bool[n];
                    for (int i = 0; i < n; i++) a[i] = src[i] != 0;
                    return a;
                }
                case GgufValueType.String:
                {
                    var a = new string[n];
                    for (int i = 0; i < n; i++) a[i] = String($"element {i} of array '{key}'", strict: false);
                    return a;
                }
                default:
                {
                    var a = new object[n];
                    for (int i = 0; i < n; i++)
                    {
                        a[i] = Array($"{key}[{i}]", depth + 1);
                    }
                    return a;
                }
            }
        }

        private T[] Copy<T>(int n, string key) where T : unmanaged
        {
            long bytes = (long)n * sizeof(T);
            var src = f._base + Need(bytes, $"array '{key}'");
            var a = new T[n];
            fixed (T* dst = a) Buffer.MemoryCopy(src, dst, bytes, bytes);
            return a;
        }
    }

    // ------------------------------------------------------------------ tensors

    public GgufTensorInfo? FindTensor(string name) => _byName.GetValueOrDefault(name);

    public GgufTensorInfo Tensor(string name) => _byName.TryGetValue(name, out var t) ? t
        : throw new GgufFormatException(Path, -1, $"the file has no tensor named '{name}' ({_tensors.Count} tensors in the file)");

    /// <summary>Bytes [<paramref name="byteOffset"/>, + <paramref name="byteCount"/>) of the tensor's data; works
    /// for tensors of any size. Valid until <see cref="Dispose"/>.</summary>
    public ReadOnlySpan<byte> TensorData(GgufTensorInfo t, long byteOffset, int byteCount)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(t);
        ulong size = t.ByteSize;
        if (byteOffset < 0 || byteCount < 0 || (ulong)byteOffset > size || (ulong)byteCount > size - (ulong)byteOffset)
            throw new ArgumentOutOfRangeException(nameof(byteOffset), $"bytes [{byteOffset}, {byteOffset} + {byteCount}) are not inside tensor '{t.Name}' of {size} bytes");
        ulong dataBytes = (ulong)Math.Max(0, FileSize - DataOffset);
        if (t.Offset > dataBytes || size > dataBytes - t.Offset)
            throw new ArgumentException($"tensor '{t.Name}' ({size} bytes at data offset {t.Offset}) does not lie inside '{Path}'; is it from another file?", nameof(t));
        return new ReadOnlySpan<byte>(_base + DataOffset + (long)t.Offset + byteOffset, byteCount);
    }

    /// <summary>The whole tensor's bytes; throws <see cref="InvalidOperationException"/> for tensors of 2 GiB or more
    /// (use the windowed overload). Valid until <see cref="Dispose"/>.</summary>
    public ReadOnlySpan<byte> TensorData(GgufTensorInfo t)
    {
        ArgumentNullException.ThrowIfNull(t);
        ulong size = t.ByteSize;
        if (size > int.MaxValue)
            throw new InvalidOperationException($"tensor '{t.Name}' is {size} bytes, too large for one span; read it in windows with TensorData(t, byteOffset, byteCount)");
        return TensorData(t, 0, (int)size);
    }

    /// <summary>The tensor decoded to float32 (F32, F16, BF16, F64, I8-I64, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1);
    /// other types throw <see cref="NotSupportedException"/> naming the type.</summary>
    public float[] ReadAsFloat32(GgufTensorInfo t)
    {
        ArgumentNullException.ThrowIfNull(t);
        if (!GgmlQuant.CanDequantize(t.Type))
            throw new NotSupportedException($"tensor '{t.Name}' has ggml type {t.Type} (id {(uint)t.Type}), which cannot be read as float32 yet; supported: F32, F16, BF16, F64, I8, I16, I32, I64, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1");
        ulong count = t.ElementCount;
        if (count > (ulong)Array.MaxLength)
            throw new InvalidOperationException($"tensor '{t.Name}' has {count} elements, more than one float[] can hold");
        var result = new float[count];
        int blockElems = t.Type.BlockSize(), blockBytes = t.Type.BlockBytes();
        long blocks = (long)(count / (ulong)blockElems);
        long chunk = Math.Max(1, (8 << 20) / blockBytes); // 8 MiB of source per step
        for (long b = 0; b < blocks; b += chunk)
        {
            long n = Math.Min(chunk, blocks - b);
            var src = TensorData(t, b * blockBytes, (int)(n * blockBytes));
            GgmlQuant.Dequantize(t.Type, src, result.AsSpan((int)(b * blockElems), (int)(n * blockElems)));
        }
        return result;
    }

    // ------------------------------------------------------------------ metadata

    /// <summary>The architecture name (general.architecture); throws <see cref="GgufFormatException"/> when the
    /// key is missing or not a string.</summary>
    public string Architecture => Get<string>("general.architecture");

    /// <summary>The value of <paramref name="key"/> as <typeparamref name="T"/>. Besides the stored type itself, a
    /// numeric value (or numeric array) may be asked for as any numeric type that holds it exactly (uint32 as
    /// int, long or double; float32 as double). Throws <see cref="GgufFormatException"/> naming the key, the
    /// stored value and the asked type when the key is missing or the value does not convert.</summary>
    public T Get<T>(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!_metadata.TryGetValue(key, out var v))
            throw new GgufFormatException(Path, -1, $"metadata key '{key}' is missing (wanted {GgufValueTypes.ClrName(typeof(T))})");
        if (GgufValueConvert.TryConvert(v, typeof(T), out var result, out var why))
            return (T)result!;
        throw new GgufFormatException(Path, _keyOffsets[key], $"metadata key '{key}' holds {GgufValueTypes.Describe(v)}, which cannot be read as {GgufValueTypes.ClrName(typeof(T))}{why}");
    }

    /// <summary>As <see cref="Get{T}"/>, but false instead of an exception when the key is missing or does not convert.</summary>
    public bool TryGet<T>(string key, out T value)
    {
        if (key is not null && _metadata.TryGetValue(key, out var v) && GgufValueConvert.TryConvert(v, typeof(T), out var result, out _))
        {
            value = (T)result!;
            return true;
        }
        value = default!;
        return false;
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
