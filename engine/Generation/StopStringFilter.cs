namespace TiDAR.Engine.Generation;

/// <summary>
/// Streams generated text while watching for stop strings: text that might be the start of a stop
/// string is held back until it is known not to be, so a stop string is never printed.
/// </summary>
public sealed class StopStringFilter(IReadOnlyList<string> stops)
{
    private readonly string[] _stops = stops.Where(s => s.Length > 0).ToArray();
    private string _pending = "";

    public bool Stopped { get; private set; }

    /// <summary>Adds newly decoded text; returns what can be shown now.</summary>
    public string Push(string text)
    {
        if (Stopped) return "";
        _pending += text;
        int cut = -1;
        foreach (var s in _stops)
        {
            int i = _pending.IndexOf(s, StringComparison.Ordinal);
            if (i >= 0 && (cut < 0 || i < cut)) cut = i;
        }
        if (cut >= 0)
        {
            Stopped = true;
            var shown = _pending[..cut];
            _pending = "";
            return shown;
        }
        int hold = 0;
        foreach (var s in _stops)
            for (int len = Math.Min(s.Length - 1, _pending.Length); len > hold; len--)
                if (_pending.AsSpan(_pending.Length - len).SequenceEqual(s.AsSpan(0, len))) { hold = len; break; }
        var ready = _pending[..^hold];
        _pending = _pending[^hold..];
        return ready;
    }

    /// <summary>At the end: whatever was held back (no stop string completed).</summary>
    public string Flush()
    {
        var rest = Stopped ? "" : _pending;
        _pending = "";
        return rest;
    }
}
