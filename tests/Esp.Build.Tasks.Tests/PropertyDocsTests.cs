using System.Text.RegularExpressions;

namespace Esp.Build.Tasks.Tests;

/// <summary>docs/properties.md lists every Esp property the package's props and targets read or set, and nothing else.</summary>
public sealed partial class PropertyDocsTests
{
    private static readonly string[] PackageFiles =
    [
        .. Directory.GetFiles(TestRepository.File("build")),
        .. Directory.GetFiles(TestRepository.File("buildMultiTargeting")),
    ];

    private static readonly string Targets = string.Concat(PackageFiles.Where(f => f.EndsWith(".props", StringComparison.Ordinal) || f.EndsWith(".targets", StringComparison.Ordinal))
        .Select(File.ReadAllText));

    [GeneratedRegex(@"\$\((Esp\w+)")]
    private static partial Regex Reference();

    [GeneratedRegex(@"PropertyName=""(Esp\w+)""")]
    private static partial Regex Output();

    [GeneratedRegex(@"^\| `(Esp\w+)` \|", RegexOptions.Multiline)]
    private static partial Regex DocumentedRow();

    private static HashSet<string> Names(Regex pattern, string text) => [.. pattern.Matches(text).Select(m => m.Groups[1].Value)];

    private static readonly HashSet<string> Read = Names(Reference(), Targets);
    private static readonly HashSet<string> Set = Names(Output(), Targets);
    private static readonly HashSet<string> Documented = Names(DocumentedRow(), File.ReadAllText(TestRepository.File("docs/properties.md")));

    [Fact]
    public void TheTargetsReadAndSetProperties() // the parsing itself works
    {
        Assert.Contains("EspPort", Read);
        Assert.Contains("EspTargetFramework", Read);
        Assert.Contains("EspBytesWritten", Set);
        Assert.DoesNotContain(Read, n => n.StartsWith("_Esp", StringComparison.Ordinal));
    }

    [Fact]
    public void EveryPropertyTheTargetsReadIsDocumented() => Assert.Empty(Read.Except(Documented).Order());

    [Fact]
    public void EveryPropertyTheTargetsSetIsDocumented() => Assert.Empty(Set.Except(Documented).Order());

    [Fact]
    public void EveryDocumentedPropertyIsStillUsed()
    {
        Assert.Empty(Documented.Except(Read).Except(Set).Order());
    }
}
