using System.Text.RegularExpressions;
using Esp.Protocol.Errors;

namespace Esp.Build.Tasks.Tests;

/// <summary>docs/errors.md, where every ESPnnnn message links to, has an entry (a "## ESPnnnn" heading) for every code.</summary>
public sealed partial class ErrorDocsTests
{
    private static readonly string[] Headings = [.. HeadingPattern().Matches(File.ReadAllText(TestRepository.File("docs/errors.md"))).Select(m => m.Groups[1].Value)];

    [GeneratedRegex(@"^## (ESP\d{4})\s*$", RegexOptions.Multiline)]
    private static partial Regex HeadingPattern();

    private static readonly string[] AllCodes = [.. Enum.GetValues<EspErrorCode>().Select(EspException.FormatCode)];

    public static TheoryData<string> Codes() => [.. AllCodes];

    [Theory]
    [MemberData(nameof(Codes))]
    public void EveryCodeHasAnEntry(string code) => Assert.Contains(code, Headings);

    [Fact]
    public void EveryEntryIsACodeAndComesOnce()
    {
        Assert.All(Headings, h => Assert.Contains(h, AllCodes));
        Assert.Equal(Headings.Length, Headings.Distinct().Count());
        Assert.Equal(Headings.Order(StringComparer.Ordinal), Headings); // in code order, so a reader finds them
    }
}
