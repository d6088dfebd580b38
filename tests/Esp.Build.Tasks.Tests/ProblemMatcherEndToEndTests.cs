using System.Text.RegularExpressions;

namespace Esp.Build.Tasks.Tests;

/// <summary>
/// Errors through the packed NuGet as CI reads them: GitHub's problem matcher for MSBuild output (actions/setup-dotnet's
/// "csc" matcher) must find them, at the user's project file and the line that set what they are about.
/// </summary>
[Collection(PackageCollection.Name)]
public sealed class ProblemMatcherEndToEndTests(PackageFixture package)
{
    // actions/setup-dotnet .github/csc.json: the expression it shipped from 2019 until mid-2026, and the current one.
    private static readonly Regex[] CscMatchers =
    [
        new(@"^([^\s].*)\((\d+)(?:,\d+|,\d+,\d+)?\):\s+(error|warning)\s+([a-zA-Z]+(?<!MSB)\d+):\s*(.*?)\s+\[(.*?)\]$"),
        new(@"^\s*(?:\d+>\s*)?([^\s].*)\((\d+)(?:,(\d+))?(?:,\d+)*\):\s+(error|warning)\s+([a-zA-Z]+(?<!MSB)\d*):\s*(.*?)\s+\[(.*?)\]$"),
    ];

    private sealed record Annotation(string File, int Line, string Severity, string Code, string FromPath);

    private static List<Annotation> Annotations(Regex matcher, string output)
    {
        var found = new List<Annotation>();
        foreach (var line in output.Split('\n').Select(l => l.TrimEnd('\r')))
        {
            var m = matcher.Match(line);
            if (!m.Success) continue;
            var g = m.Groups;
            // Both expressions: file first, severity, code and the project last; the newer one also captures the column.
            int severity = g.Count == 7 ? 3 : 4;
            found.Add(new Annotation(g[1].Value, int.Parse(g[2].Value, System.Globalization.CultureInfo.InvariantCulture), g[severity].Value, g[severity + 1].Value, g[g.Count - 1].Value));
        }
        return found;
    }

    private static int LineOf(string file, string text) => Array.FindIndex(File.ReadAllLines(file), l => l.Contains(text, StringComparison.Ordinal)) + 1;

    private string Consumer(string name, string properties, string items = "")
    {
        var dir = Path.Combine(package.Root, name);
        return Directory.Exists(dir) ? dir : package.CreateConsumer(name, package.ProjectText(properties, items));
    }

    [Fact]
    public void AWrongPortIsAnnotatedAtTheProjectLineThatSetsIt()
    {
        var dir = Consumer("WrongPort", """
            <TargetFramework>net10.0</TargetFramework>
            <EspPort>/dev/ttyESPNOPE</EspPort>
            """);
        var project = Path.Combine(dir, "WrongPort.csproj");
        var r = package.BuildIn(dir, ["-t:EspInfo"]);
        Assert.NotEqual(0, r.ExitCode);
        foreach (var matcher in CscMatchers)
        {
            var annotations = Annotations(matcher, r.Output);
            Assert.NotEmpty(annotations);
            Assert.All(annotations, a =>
            {
                Assert.Equal(new Annotation("WrongPort.csproj", LineOf(project, "<EspPort>"), "error", "ESP2001", project), a);
                Assert.Equal(project, Path.GetFullPath(a.File, Path.GetDirectoryName(a.FromPath)!)); // the file, resolved as GitHub does
            });
        }
        Assert.DoesNotContain(r.Output.Split('\n'), l => l.Contains("error ESP", StringComparison.Ordinal) && l.Contains("Esp.Build.Tasks.targets", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Deploy")]
    [InlineData("EspFlash")]
    public void AnImageWithoutAnAddressIsAnnotatedAtItsItem(string target)
    {
        var dir = Consumer("NoAddress", """
            <TargetFramework>net10.0</TargetFramework>
            <EspPort>sim:esp32</EspPort>
            """, """<EspFlashImage Include="app.bin" />""");
        File.WriteAllBytes(Path.Combine(dir, "app.bin"), new byte[64]);
        var r = package.BuildIn(dir, [$"-t:{target}"]);
        Assert.NotEqual(0, r.ExitCode);
        var annotation = Assert.Single(Annotations(CscMatchers[1], r.Output).Distinct());
        Assert.Equal(("NoAddress.csproj", LineOf(Path.Combine(dir, "NoAddress.csproj"), "<EspFlashImage"), "ESP1001"), (annotation.File, annotation.Line, annotation.Code));
    }
}
