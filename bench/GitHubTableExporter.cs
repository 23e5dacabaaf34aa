using BenchmarkDotNet.Exporters;

namespace TiDAR.Bench;

/// <summary>
/// BDN's GitHub markdown (`*-report-github.md`) without bold rows: BDN bolds the first row of each
/// parameter group, and with a parameter on every row that made the whole table bold.
/// </summary>
public sealed class GitHubTableExporter : MarkdownExporter
{
    public GitHubTableExporter()
    {
        Dialect = "GitHub";
        UseCodeBlocks = true;
        CodeBlockStart = "```";
        StartOfGroupHighlightStrategy = MarkdownHighlightStrategy.None;
        ColumnsStartWithSeparator = true;
        EscapeHtml = true;
    }
}
