using System.Text;

namespace TiDAR.Engine.Gguf;

/// <summary>
/// Writes a GGUF v3 file in one pass: set metadata and declare every tensor, then stream the tensors'
/// bytes in declaration order (any number of chunks per tensor), then <see cref="Finish"/>.
/// The header goes out with the first <see cref="WriteTensorData"/> (or at <see cref="Finish"/>), so
/// metadata and tensors cannot be added after that. Output goes to a temporary file next to the target,
/// renamed into place by <see cref="Finish"/>; <see cref="Dispose"/> without <see cref="Finish"/> deletes
/// it, so a partial file never appears at the target path.
/// </summary>
public sealed class GgufWriter : IDisposable
{
    /// <summary>llama.cpp rejects tensor names of GGML_MAX_NAME (64) bytes or more (the C buffer keeps a NUL).</summary>
    public const int MaxTensorNameBytes = 63;

    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    private enum State { Declaring, Streaming, Finished, Closed }

    private readonly string _path;
    private readonly string _tempPath;
    private readonly uint _alignment;
    private FileStream? _stream;
    private State _state = State.Declaring;

    private readonly OrderedDictionary<string, object> _metadata = new(StringComparer.Ordinal);
    private readonly List<(string Name, byte[] NameBytes, GgmlType Type, ulong[] Dims, ulong Offset, ulong Size)> _tensors = new();
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private ulong _dataSize;      // aligned end of the last declared tensor, relative to the data section

    private long _dataStart;      // absolute offset of the data section once the header is out
    private int _current;         // tensor receiving bytes
    private ulong _written;       // bytes of _current written so far

    public string Path => _path;
    public uint Alignment => _alignment;

    public GgufWriter(string path, uint alignment = GgufFile.DefaultAlignment)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment > (1u << 30))
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "The alignment must be a power of two no larger than 2^30.");
        _path = System.IO.Path.GetFullPath(path);
        _alignment = alignment;
        _tempPath = $"{_path}.{Guid.NewGuid():N}.tmp";
        _stream = new FileStream(_tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
    }

    // ------------------------------------------------------------------ declaring

    /// <summary>Sets a metadata value: string, bool, byte, sbyte, ushort, short, uint, int, ulong, long, float,
    /// double, a one-dimensional array of one of those, or an object[] of arrays (nested arrays) or of scalars
    /// of one type. Setting a key again replaces its value and keeps its place. Arrays are copied.</summary>
    public void SetMetadata(string key, object value)
    {
        RequireDeclaring();
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (key.Length == 0) throw new ArgumentException("A metadata key must not be empty.", nameof(key));
        try { StrictUtf8.GetByteCount(key); }
        catch (EncoderFallbackException) { throw new ArgumentException($"Metadata key '{key}' is not valid Unicode (lone surrogate).", nameof(key)); }
        var copy = Validate(value, key, 0);
        if (key == "general.alignment" && !(copy is uint a && a == _alignment))
            throw new ArgumentException($"general.alignment must be the uint32 {_alignment} this writer aligns to (got {GgufValueTypes.Describe(value)}); pass the alignment to the constructor instead.", nameof(value));
        _metadata[key] = copy;
    }

    /// <summary>Declares the next tensor: <paramref name="dimensions"/> are ggml ne[], innermost first (the reverse of a
    /// PyTorch shape), 1 to 4 of them, each at least 1, ne[0] a whole number of the type's blocks.</summary>
    public void AddTensor(string name, GgmlType type, ulong[] dimensions)
    {
        RequireDeclaring();
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(dimensions);
        if (name.Length == 0) throw new ArgumentException("A tensor name must not be empty.", nameof(name));
        byte[] nameBytes;
        try { nameBytes = StrictUtf8.GetBytes(name); }
        catch (EncoderFallbackException) { throw new ArgumentException($"Tensor name '{name}' is not valid Unicode (lone surrogate).", nameof(name)); }
        if (nameBytes.Length > MaxTensorNameBytes)
            throw new ArgumentException($"Tensor name '{name}' is {nameBytes.Length} UTF-8 bytes; llama.cpp accepts at most {MaxTensorNameBytes}.", nameof(name));
        if (!_names.Add(name))
            throw new ArgumentException($"A tensor named '{name}' was already added.", nameof(name));
        try
        {
            if (!GgmlTypeInfo.IsKnown((uint)type))
                throw new ArgumentException($"Tensor '{name}': {(uint)type} is not a known ggml type id.", nameof(type));
            if (dimensions.Length is 0 or > GgufFile.MaxDimensions)
                throw new ArgumentException($"Tensor '{name}' has {dimensions.Length} dimensions; ggml tensors have 1 to {GgufFile.MaxDimensions}.", nameof(dimensions));
            var dims = (ulong[])dimensions.Clone();
            ulong elements = 1;
            foreach (var d in dims)
            {
                if (d == 0 || d > long.MaxValue || elements > long.MaxValue / d)
                    throw new ArgumentException($"Tensor '{name}' has dimensions [{string.Join(", ", dims)}]; each must be at least 1 and their product below 2^63.", nameof(dimensions));
                elements *= d;
            }
            if (dims[0] % (ulong)type.BlockSize() != 0)
                throw new ArgumentException($"Tensor '{name}' of type {type}: ne[0] = {dims[0]} is not a multiple of the {type.BlockSize()}-element block.", nameof(dimensions));
            ulong size;
            try { size = new GgufTensorInfo(name, dims, type, 0).ByteSize; }
            catch (GgufFormatException e) { throw new ArgumentException($"Tensor '{name}': {e.Message}", nameof(dimensions)); }
            ulong offset = _dataSize;
            try { _dataSize = AlignUp(checked(offset + size), _alignment); }
            catch (OverflowException) { throw new ArgumentException($"Tensor '{name}' ({size} bytes) takes the data section past 2^64 bytes.", nameof(dimensions)); }
            _tensors.Add((name, nameBytes, type, dims, offset, size));
        }
        catch
        {
            _names.Remove(name);
            throw;
        }
    }

    // ------------------------------------------------------------------ streaming

    /// <summary>Appends bytes to the current tensor (tensors fill in declaration order; a call never spans two
    /// tensors). Throws when the bytes would overrun the current tensor or all tensors are complete.</summary>
    public void WriteTensorData(ReadOnlySpan<byte> data)
    {
        if (_state == State.Declaring) WriteHeader();
        RequireState(State.Streaming, "write tensor data");
        if (data.IsEmpty) return;
        AdvancePastCompleteTensors();
        if (_current == _tensors.Count)
            throw new InvalidOperationException(_tensors.Count == 0
                ? $"No tensors were declared, so there is nowhere for {data.Length} bytes to go."
                : $"All {_tensors.Count} tensors are complete; {data.Length} more bytes have nowhere to go.");
        var t = _tensors[_current];
        ulong left = t.Size - _written;
        if ((ulong)data.Length > left)
            throw new InvalidOperationException($"Tensor '{t.Name}' ({t.Type} [{string.Join(", ", t.Dims)}]) is {t.Size} bytes and has {_written}; {data.Length} more would overrun it by {(ulong)data.Length - left}. Split the chunk at the tensor boundary.");
        _stream!.Write(data);
        _written += (ulong)data.Length;
    }

    /// <summary>Completes the file and renames it into place; throws if any tensor is short of bytes.</summary>
    public void Finish()
    {
        if (_state == State.Declaring) WriteHeader();
        RequireState(State.Streaming, "finish");
        AdvancePastCompleteTensors();
        if (_current < _tensors.Count)
        {
            var t = _tensors[_current];
            int missing = _tensors.Count - _current - 1;
            throw new InvalidOperationException($"Tensor '{t.Name}' has {_written} of its {t.Size} bytes{(missing > 0 ? $", and {missing} later tensors have none" : "")}; the file is incomplete.");
        }
        var s = _stream!;
        PadTo(_dataStart + (long)_dataSize);
        s.Flush(flushToDisk: true);
        s.Dispose();
        _stream = null;
        File.Move(_tempPath, _path, overwrite: true);
        _state = State.Finished;
    }

    public void Dispose()
    {
        if (_state is State.Finished or State.Closed) return;
        _state = State.Closed;
        _stream?.Dispose();
        _stream = null;
        try { File.Delete(_tempPath); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    // ------------------------------------------------------------------ internals

    private void AdvancePastCompleteTensors()
    {
        while (_current < _tensors.Count && _written == _tensors[_current].Size)
        {
            _current++;
            _written = 0;
            if (_current < _tensors.Count) PadTo(_dataStart + (long)_tensors[_current].Offset);
        }
    }

    private void PadTo(long position)
    {
        var s = _stream!;
        long pad = position - s.Position;
        if (pad < 0) throw new InvalidOperationException($"Internal error: the writer is at {s.Position}, past {position}.");
        Span<byte> zeros = stackalloc byte[256];
        zeros.Clear();
        while (pad > 0)
        {
            int n = (int)Math.Min(pad, zeros.Length);
            s.Write(zeros[..n]);
            pad -= n;
        }
    }

    private void WriteHeader()
    {
        RequireDeclaring();
        if (_alignment != GgufFile.DefaultAlignment && !_metadata.ContainsKey("general.alignment"))
            _metadata["general.alignment"] = _alignment;
        var s = _stream!;
        using (var w = new BinaryWriter(s, Encoding.UTF8, leaveOpen: true))
        {
            w.Write("GGUF"u8);
            w.Write(3u);
            w.Write((ulong)_tensors.Count);
            w.Write((ulong)_metadata.Count);
            foreach (var (key, value) in _metadata)
            {
                WriteString(w, StrictUtf8.GetBytes(key));
                if (value is Array)
                {
                    w.Write((uint)GgufValueType.Array);
                    WriteArray(w, (Array)value);
                }
                else
                {
                    var t = GgufValueTypes.OfScalar(value.GetType())!.Value;
                    w.Write((uint)t);
                    WriteScalar(w, value);
                }
            }
            foreach (var t in _tensors)
            {
                WriteString(w, t.NameBytes);
                w.Write((uint)t.Dims.Length);
                foreach (var d in t.Dims) w.Write(d);
                w.Write((uint)t.Type);
                w.Write(t.Offset);
            }
        }
        _dataStart = (long)AlignUp((ulong)s.Position, _alignment);
        PadTo(_dataStart);
        _state = State.Streaming;
        _current = 0;
        _written = 0;
    }

    private static void WriteString(BinaryWriter w, byte[] utf8)
    {
        w.Write((ulong)utf8.Length);
        w.Write(utf8);
    }

    private static void WriteScalar(BinaryWriter w, object v)
    {
        switch (v)
        {
            case byte x: w.Write(x); break;
            case sbyte x: w.Write(x); break;
            case ushort x: w.Write(x); break;
            case short x: w.Write(x); break;
            case uint x: w.Write(x); break;
            case int x: w.Write(x); break;
            case ulong x: w.Write(x); break;
            case long x: w.Write(x); break;
            case float x: w.Write(x); break;
            case double x: w.Write(x); break;
            case bool x: w.Write((byte)(x ? 1 : 0)); break;
            case string x: WriteString(w, StrictUtf8.GetBytes(x)); break;
            default: throw new InvalidOperationException($"Internal error: unexpected metadata value type {v.GetType()}.");
        }
    }

    private static void WriteArray(BinaryWriter w, Array a)
    {
        var et = ElementType(a);
        w.Write((uint)et);
        w.Write((ulong)a.Length);
        foreach (var item in a)
        {
            if (et == GgufValueType.Array) WriteArray(w, (Array)item!);
            else WriteScalar(w, item!);
        }
    }

    /// <summary>The GGUF element type of a validated array: typed arrays by their element type, object[] by its
    /// (homogeneous) items; an empty object[] is an empty array of arrays.</summary>
    private static GgufValueType ElementType(Array a)
    {
        // (Exact type tests: string[] is also an object[] by array covariance.)
        if (a.GetType() != typeof(object[])) return GgufValueTypes.OfScalar(a.GetType().GetElementType()!)!.Value;
        var items = (object[])a;
        if (items.Length == 0 || items[0] is Array) return GgufValueType.Array;
        return GgufValueTypes.OfScalar(items[0].GetType())!.Value;
    }

    /// <summary>Checks a value is representable and returns what to store (arrays copied).</summary>
    private static object Validate(object value, string key, int depth)
    {
        if (value is string s)
        {
            try { StrictUtf8.GetByteCount(s); }
            catch (EncoderFallbackException) { throw new ArgumentException($"Metadata '{key}': the string is not valid Unicode (lone surrogate).", nameof(value)); }
            return s;
        }
        if (value is Array a)
        {
            if (a.Rank != 1) throw new ArgumentException($"Metadata '{key}': only one-dimensional arrays can be stored.", nameof(value));
            if (depth + 1 >= GgufValueTypes.MaxArrayDepth)
                throw new ArgumentException($"Metadata '{key}': arrays nest more than {GgufValueTypes.MaxArrayDepth} deep.", nameof(value));
            var elementType = a.GetType().GetElementType()!;
            if (elementType == typeof(object) || elementType.IsArray)
            {
                // object[] or a jagged array (int[][] ...): stored as object[], nested arrays or same-typed scalars.
                // (Exact type tests: string[] is also an object[] by array covariance.)
                var items = new object?[a.Length];
                a.CopyTo(items, 0);
                var copy = new object[items.Length];
                Type? first = null;
                for (int i = 0; i < items.Length; i++)
                {
                    var item = items[i] ?? throw new ArgumentException($"Metadata '{key}': element {i} is null.", nameof(value));
                    bool isArray = item is Array;
                    if (!isArray && GgufValueTypes.OfScalar(item.GetType()) is null)
                        throw new ArgumentException($"Metadata '{key}': element {i} has type {item.GetType().Name}, which GGUF cannot store.", nameof(value));
                    var kind = isArray ? typeof(Array) : item.GetType();
                    first ??= kind;
                    if (kind != first)
                        throw new ArgumentException($"Metadata '{key}': a GGUF array holds one type, but element 0 is {Kind(first)} and element {i} is {Kind(kind)}.", nameof(value));
                    copy[i] = Validate(item, $"{key}[{i}]", depth + 1);
                }
                return copy;
            }
            if (GgufValueTypes.OfScalar(elementType) is null)
                throw new ArgumentException($"Metadata '{key}': arrays of {elementType.Name} cannot be stored in GGUF.", nameof(value));
            if (a is string[] strings)
                for (int i = 0; i < strings.Length; i++)
                {
                    if (strings[i] is null) throw new ArgumentException($"Metadata '{key}': string {i} is null.", nameof(value));
                    Validate(strings[i], $"{key}[{i}]", depth + 1);
                }
            return a.Clone();
        }
        if (GgufValueTypes.OfScalar(value.GetType()) is null)
            throw new ArgumentException($"Metadata '{key}': values of type {value.GetType().Name} cannot be stored in GGUF (use string, bool, byte, sbyte, ushort, short, uint, int, ulong, long, float, double or an array of them).", nameof(value));
        return value;
    }

    private static string Kind(Type t) => t == typeof(Array) ? "an array" : GgufValueTypes.ClrName(t);

    private static ulong AlignUp(ulong x, ulong alignment) => checked((x + alignment - 1) / alignment * alignment);

    private void RequireDeclaring()
    {
        if (_state != State.Declaring)
            throw new InvalidOperationException(_state == State.Streaming
                ? "Metadata and tensors must all be declared before the first WriteTensorData: the header has been written."
                : $"The writer is {(_state == State.Finished ? "finished" : "disposed")}.");
    }

    private void RequireState(State wanted, string action)
    {
        if (_state != wanted)
            throw new InvalidOperationException($"Cannot {action}: the writer is {(_state == State.Finished ? "finished" : "disposed")}.");
    }
}
