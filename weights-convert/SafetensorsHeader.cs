using System.Text.Json;

namespace TiDAR.WeightsConvert;

/// <summary>
/// Parses and validates the JSON header of a .safetensors file: <c>{"name": {"dtype": "F32", "shape": [..],
/// "data_offsets": [begin, end]}, ..., "__metadata__": {"k": "v"}}</c>, offsets relative to the end of the header.
/// Every entry is checked against the size of the data section before anything uses it; problems throw
/// <see cref="InvalidDataException"/> naming the file, the tensor and what is wrong.
/// </summary>
public static class SafetensorsHeader
{
    /// <summary>The largest header accepted (the reference implementation's limit is 100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public const string MetadataKey = "__metadata__";

    public static (IReadOnlyList<SafetensorsTensorInfo> Tensors, IReadOnlyDictionary<string, string> Metadata) Parse(
        ReadOnlyMemory<byte> json, long dataLength, string file)
    {
        if (json.Length < 2 || json.Span[0] != (byte)'{')
            throw Bad(file, $"the {json.Length}-byte header is not a JSON object (it must start with '{{')");
        if (!System.Text.Unicode.Utf8.IsValid(json.Span))
            throw Bad(file, "the header is not valid UTF-8");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 }); }
        catch (JsonException e) { throw Bad(file, $"the header is not valid JSON: {e.Message}", e); }
        catch (ArgumentException e) { throw Bad(file, $"the header is not valid JSON: {e.Message}", e); }
        try
        {
            using var _ = doc;
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw Bad(file, "the header is not a JSON object");
            var tensors = new List<SafetensorsTensorInfo>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            bool sawMetadata = false;
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                string name = prop.Name;
                if (name == MetadataKey)
                {
                    if (sawMetadata) throw Bad(file, $"'{MetadataKey}' appears twice");
                    sawMetadata = true;
                    ReadMetadata(prop.Value, metadata, file);
                    continue;
                }
                if (!seen.Add(name)) throw Bad(file, $"tensor '{name}' appears twice in the header");
                tensors.Add(ReadTensor(name, prop.Value, dataLength, file));
            }
            CheckNoOverlap(tensors, file);
            return (tensors, metadata);
        }
        catch (InvalidOperationException e) { throw Bad(file, $"the header holds text that cannot be read: {e.Message}", e); }
    }

    private static void ReadMetadata(JsonElement e, Dictionary<string, string> metadata, string file)
    {
        if (e.ValueKind != JsonValueKind.Object)
            throw Bad(file, $"'{MetadataKey}' is a JSON {Kind(e)}, not an object of strings");
        foreach (var p in e.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String)
                throw Bad(file, $"'{MetadataKey}' entry '{p.Name}' is a JSON {Kind(p.Value)}, not a string");
            metadata[p.Name] = p.Value.GetString()!;
        }
    }

    private static SafetensorsTensorInfo ReadTensor(string name, JsonElement e, long dataLength, string file)
    {
        if (e.ValueKind != JsonValueKind.Object)
            throw Bad(file, $"tensor '{name}': the entry is a JSON {Kind(e)}, not an object");
        if (!e.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String)
            throw Bad(file, $"tensor '{name}': no string \"dtype\"");
        if (!e.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array)
            throw Bad(file, $"tensor '{name}': no array \"shape\"");
        if (!e.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array)
            throw Bad(file, $"tensor '{name}': no array \"data_offsets\"");

        string dtypeName = dt.GetString()!;
        var dtype = SafetensorsDTypes.TryParse(dtypeName);

        int rank = sh.GetArrayLength();
        if (rank > 8) throw Bad(file, $"tensor '{name}': {rank} dimensions (at most 8 are accepted)");
        var shape = new long[rank];
        long elements = 1;
        bool overflow = false;
        for (int i = 0; i < rank; i++)
        {
            var d = sh[i];
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long v) || v < 0)
                throw Bad(file, $"tensor '{name}': shape entry {i} ({Text(d)}) is not a non-negative integer");
            shape[i] = v;
            if (v != 0 && elements > long.MaxValue / v) overflow = true;
            else elements *= v;
        }
        if (shape.Contains(0)) { elements = 0; overflow = false; }

        if (off.GetArrayLength() != 2)
            throw Bad(file, $"tensor '{name}': data_offsets has {off.GetArrayLength()} entries, not 2");
        long Offset(int i)
        {
            var o = off[i];
            if (o.ValueKind != JsonValueKind.Number || !o.TryGetInt64(out long v) || v < 0)
                throw Bad(file, $"tensor '{name}': data_offsets[{i}] ({Text(o)}) is not a non-negative integer");
            return v;
        }
        long begin = Offset(0), end = Offset(1);
        if (end < begin)
            throw Bad(file, $"tensor '{name}': data_offsets [{begin}, {end}] end before they begin");
        if (end > dataLength)
            throw Bad(file, $"tensor '{name}': data_offsets [{begin}, {end}] run past the {dataLength}-byte data section (is the file truncated?)");
        string shapeText = "[" + string.Join(", ", shape) + "]";
        if (dtype is { } t)
        {
            long size = t.Size();
            if (overflow || elements > long.MaxValue / size)
                throw Bad(file, $"tensor '{name}': shape {shapeText} has too many elements");
            if (end - begin != elements * size)
                throw Bad(file, $"tensor '{name}': {t.Name()} shape {shapeText} needs {elements * size} bytes but data_offsets [{begin}, {end}] hold {end - begin}");
        }
        return new SafetensorsTensorInfo(name, dtypeName, dtype, shape, begin, end);
    }

    private static void CheckNoOverlap(List<SafetensorsTensorInfo> tensors, string file)
    {
        var sorted = tensors.Where(t => t.End > t.Begin).OrderBy(t => t.Begin).ToList();
        for (int i = 1; i < sorted.Count; i++)
            if (sorted[i].Begin < sorted[i - 1].End)
                throw Bad(file, $"tensors '{sorted[i - 1].Name}' [{sorted[i - 1].Begin}, {sorted[i - 1].End}] and '{sorted[i].Name}' [{sorted[i].Begin}, {sorted[i].End}] overlap");
    }

    private static string Kind(JsonElement e) => e.ValueKind.ToString().ToLowerInvariant();

    private static string Text(JsonElement e)
    {
        string raw = e.GetRawText();
        return raw.Length <= 40 ? raw : raw[..40] + "...";
    }

    internal static InvalidDataException Bad(string file, string problem, Exception? inner = null) =>
        new($"safetensors file '{file}': {problem}.", inner);
}
