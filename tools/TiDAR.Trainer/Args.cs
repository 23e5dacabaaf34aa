namespace TiDAR.Trainer;

/// <summary>Plain "--name value" / "--flag" arguments after the subcommand.</summary>
public sealed class Args
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);
    public List<string> Positional { get; } = new();

    public Args(IEnumerable<string> args)
    {
        var list = args.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            string a = list[i];
            if (!a.StartsWith("--")) { Positional.Add(a); continue; }
            string name = a[2..];
            int eq = name.IndexOf('=');
            if (eq >= 0) { _values[name[..eq]] = name[(eq + 1)..]; continue; }
            if (i + 1 < list.Count && !list[i + 1].StartsWith("--")) _values[name] = list[++i];
            else _values[name] = null;
        }
    }

    public string? Str(string name, string? fallback = null) { _used.Add(name); return _values.TryGetValue(name, out var v) && v is not null ? v : fallback; }
    public string Req(string name) => Str(name) ?? throw new ArgumentException($"--{name} is required");
    public int Int(string name, int fallback) => Str(name) is { } s ? int.Parse(s) : fallback;
    public long Long(string name, long fallback) => Str(name) is { } s ? long.Parse(s) : fallback;
    public double Dbl(string name, double fallback) => Str(name) is { } s ? double.Parse(s, System.Globalization.CultureInfo.InvariantCulture) : fallback;
    public bool Flag(string name) { _used.Add(name); return _values.ContainsKey(name); }

    /// <summary>Throws on options nobody asked for (typos).</summary>
    public void RejectUnknown()
    {
        var unknown = _values.Keys.Where(k => !_used.Contains(k)).ToList();
        if (unknown.Count > 0) throw new ArgumentException("unknown option(s): " + string.Join(", ", unknown.Select(u => "--" + u)));
    }
}
