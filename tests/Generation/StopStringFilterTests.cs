using TiDAR.Engine.Generation;

namespace TiDAR.Tests.Generation;

public sealed class StopStringFilterTests
{
    [Fact]
    public void HoldsBackPossibleStartsAndCutsAtTheStopString()
    {
        var f = new StopStringFilter(["\n\nUser:"]);
        Assert.Equal("Hello", f.Push("Hello"));
        Assert.Equal(" world", f.Push(" world\n"));   // "\n" might start the stop string
        Assert.Equal("", f.Push("\nUs"));
        Assert.Equal("", f.Push("er: next"));
        Assert.True(f.Stopped);
        Assert.Equal("", f.Flush());
    }

    [Fact]
    public void ReleasesHeldTextWhenItTurnsOutHarmless()
    {
        var f = new StopStringFilter(["END"]);
        Assert.Equal("a", f.Push("aEN"));
        Assert.Equal("ENd", f.Push("d"));
        Assert.Equal("x", f.Push("xE"));
        Assert.Equal("E", f.Flush());
        Assert.False(f.Stopped);
    }

    [Fact]
    public void EarliestOfSeveralStopsWins()
    {
        var f = new StopStringFilter(["bb", "a"]);
        Assert.Equal("xx", f.Push("xxabb"));
        Assert.True(f.Stopped);
    }
}
