namespace Esp.Bench;

public sealed record Row(string Figure, string Measured, string Value, string Target, bool? Met, string Link);

/// <summary>Collects figures and prints them as a Markdown table.</summary>
public sealed class Table
{
    private readonly List<Row> _rows = new();
    public IReadOnlyList<Row> Rows => _rows;

    public void Add(string figure, string measured, string value, string target = "", bool? met = null, string link = "")
    {
        var row = new Row(figure, measured, value, target, met, link);
        _rows.Add(row);
        Console.Error.WriteLine($"  {figure}: {value} {(met is null ? "" : met.Value ? "[met]" : "[NOT met]")}");
    }

    public void Print(TextWriter w)
    {
        w.WriteLine("| # | figure | measured | value | target | met | link |");
        w.WriteLine("|---|---|---|---|---|---|---|");
        int i = 0;
        foreach (var r in _rows)
            w.WriteLine($"| {++i} | {r.Figure} | {r.Measured} | {r.Value} | {r.Target} | {(r.Met is null ? "–" : r.Met.Value ? "yes" : "**no**")} | {r.Link} |");
    }
}
