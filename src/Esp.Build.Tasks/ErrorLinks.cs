using System.Reflection;

namespace Esp.Build.Tasks;

/// <summary>The help link of an ESPnnnn code: its entry in the repository's docs/errors.md (the package's RepositoryUrl).</summary>
internal static class ErrorLinks
{
    /// <summary>docs/errors.md of the repository, baked in by the project file; empty when unknown.</summary>
    public static string Page { get; } =
        typeof(ErrorLinks).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "EspErrorsUrl")?.Value ?? "";

    public static string For(string codeText) => Page.Length == 0 ? "" : $"{Page}#{codeText.ToLowerInvariant()}";
}
