using System.Runtime.InteropServices;
using TiDAR.Engine.Gguf;
using TiDAR.Engine.Model;

namespace TiDAR.WeightsConvert;

/// <summary>
/// A Hugging Face checkpoint seen as an <see cref="IWeightSource"/>: its tensors under llama.cpp's GGUF names,
/// dimensions innermost first, values exactly as stored (no llama Q/K permutation: a model built from this
/// source must pair RoPE dims the "neox" way). Unknown tensors are left out (<see cref="IgnoredTensors"/>), and so
/// is lm_head.weight when the config ties the embeddings.
/// </summary>
public sealed class HfWeightSource : IWeightSource, IDisposable
{
    private readonly record struct Entry(string HfName, int Layer, SafetensorsFile File, SafetensorsTensorInfo Info);

    private readonly Dictionary<string, Entry> _byName = new(StringComparer.Ordinal);
    private readonly List<string> _names = new();
    private readonly List<string> _ignored = new();
    private readonly bool _ownsCheckpoint;

    public HfCheckpoint Checkpoint { get; }
    public HfConfig Config => Checkpoint.Config;
    /// <summary>GGUF names of the tensors this source holds, in checkpoint order.</summary>
    public IReadOnlyList<string> Names => _names;
    /// <summary>Hugging Face names of checkpoint tensors with no GGUF counterpart (or a tied lm_head), left out.</summary>
    public IReadOnlyList<string> IgnoredTensors => _ignored;

    public HfWeightSource(HfCheckpoint checkpoint, bool ownsCheckpoint = false)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        Checkpoint = checkpoint;
        _ownsCheckpoint = ownsCheckpoint;
        foreach (var hf in checkpoint.TensorNames)
        {
            var mapped = HfTensorNames.ToGguf(hf);
            if (mapped is null || (mapped.Value.GgufName == TensorNames.Output && checkpoint.Config.TieWordEmbeddings))
            {
                _ignored.Add(hf);
                continue;
            }
            var (file, info) = checkpoint.Tensor(hf);
            _byName.Add(mapped.Value.GgufName, new Entry(hf, mapped.Value.Layer, file, info));
            _names.Add(mapped.Value.GgufName);
        }
    }

    /// <summary>Opens the checkpoint folder; disposing the source closes it.</summary>
    public static HfWeightSource Open(string directory)
    {
        var checkpoint = HfCheckpoint.Open(directory);
        try { return new HfWeightSource(checkpoint, ownsCheckpoint: true); }
        catch { checkpoint.Dispose(); throw; }
    }

    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The checkpoint's name for a GGUF tensor name.</summary>
    public string HfName(string name) => Get(name).HfName;

    /// <summary>The block a tensor belongs to, or -1 for the embedding, output norm and output.</summary>
    public int Layer(string name) => Get(name).Layer;

    /// <summary>The stored shape, PyTorch order (outermost first).</summary>
    public long[] HfShape(string name) => (long[])Get(name).Info.Shape.Clone();

    public SourceTensor Describe(string name)
    {
        var e = Get(name);
        var type = e.File.RequireSupported(e.Info).ToSourceType();
        var dims = e.Info.Shape.Reverse().ToArray();
        if (dims.Length == 0) dims = [1];
        return new SourceTensor(name, type, dims);
    }

    /// <summary>Rows (all dims but the innermost) and columns (the innermost dim) of a tensor; a vector is one row.</summary>
    public (long Rows, long Cols) RowsCols(string name)
    {
        var shape = Get(name).Info.Shape;
        long cols = shape.Length == 0 ? 1 : shape[^1];
        long rows = 1;
        for (int i = 0; i < shape.Length - 1; i++) rows *= shape[i];
        return (rows, cols);
    }

    /// <summary>Bytes of rows [<paramref name="firstRow"/>, + <paramref name="count"/>) in the stored encoding.</summary>
    public ReadOnlySpan<byte> RawRows(string name, long firstRow, int count)
    {
        var (rows, cols) = RowsCols(name);
        if (firstRow < 0 || count < 0 || firstRow > rows || count > rows - firstRow)
            throw new ArgumentOutOfRangeException(nameof(firstRow), $"{name}: rows [{firstRow}, {firstRow} + {count}) are outside its {rows} rows.");
        return RawElements(name, firstRow * cols, checked((int)(count * cols)));
    }

    /// <summary>Bytes of elements [<paramref name="first"/>, + <paramref name="count"/>) (row-major, innermost fastest)
    /// in the stored encoding. Valid while the source is open.</summary>
    public ReadOnlySpan<byte> RawElements(string name, long first, int count)
    {
        var e = Get(name);
        int size = e.File.RequireSupported(e.Info).Size();
        long total = e.Info.ByteCount / size;
        if (first < 0 || count < 0 || first > total || count > total - first)
            throw new ArgumentOutOfRangeException(nameof(first), $"{name}: elements [{first}, {first} + {count}) are outside its {total} elements.");
        return e.File.Data(e.Info, first * size, checked(count * size));
    }

    /// <summary>Decodes rows [<paramref name="firstRow"/>, + <paramref name="count"/>) to fp32 into <paramref name="destination"/>.</summary>
    public void ReadFloat32Rows(string name, long firstRow, int count, Span<float> destination)
    {
        var (_, cols) = RowsCols(name);
        ReadFloat32Elements(name, firstRow * cols, checked((int)(count * cols)), destination);
    }

    /// <summary>Decodes elements [<paramref name="first"/>, + <paramref name="count"/>) to fp32 into <paramref name="destination"/>.</summary>
    public void ReadFloat32Elements(string name, long first, int count, Span<float> destination)
    {
        var raw = RawElements(name, first, count);
        Decode(StoredType(name), raw, destination[..count]);
    }

    /// <summary>The stored dtype; <see cref="NotSupportedException"/> unless F32, F16 or BF16.</summary>
    public SafetensorsDType StoredType(string name)
    {
        var e = Get(name);
        return e.File.RequireSupported(e.Info);
    }

    public static void Decode(SafetensorsDType dtype, ReadOnlySpan<byte> raw, Span<float> destination)
    {
        switch (dtype)
        {
            case SafetensorsDType.F32: MemoryMarshal.Cast<byte, float>(raw).CopyTo(destination); break;
            case SafetensorsDType.F16: GgmlQuant.FromF16(raw, destination); break;
            case SafetensorsDType.BF16: GgmlQuant.FromBF16(raw, destination); break;
            default: throw new NotSupportedException($"safetensors dtype {dtype.Name()} cannot be decoded; supported: {SafetensorsDTypes.SupportedList}.");
        }
    }

    public float[] ReadFloat32(string name)
    {
        var (rows, cols) = RowsCols(name);
        long n = rows * cols;
        if (n > Array.MaxLength) throw new InvalidOperationException($"{name} has {n} elements, more than one float[] can hold.");
        var result = new float[n];
        if (n == 0) return result;
        long chunk = Math.Max(1, (4 << 20) / Math.Max(1, cols));
        for (long r = 0; r < rows; r += chunk)
        {
            int c = (int)Math.Min(chunk, rows - r);
            ReadFloat32Rows(name, r, c, result.AsSpan((int)(r * cols), (int)(c * cols)));
        }
        return result;
    }

    public float[] ReadFloat32Rows(string name, int firstRow, int count)
    {
        var (_, cols) = RowsCols(name);
        var result = new float[checked(count * cols)];
        ReadFloat32Rows(name, firstRow, count, result);
        return result;
    }

    public byte[] ReadRaw(string name)
    {
        var e = Get(name);
        e.File.RequireSupported(e.Info);
        return e.File.Data(e.Info).ToArray();
    }

    private Entry Get(string name) => _byName.TryGetValue(name, out var e) ? e
        : throw new InvalidDataException($"Tensor {name} is missing from the checkpoint '{Checkpoint.Directory}'.");

    public void Dispose()
    {
        if (_ownsCheckpoint) Checkpoint.Dispose();
    }
}
