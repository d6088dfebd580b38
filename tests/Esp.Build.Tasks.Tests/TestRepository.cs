using System.Reflection;

namespace Esp.Build.Tasks.Tests;

/// <summary>Where the repository and its build configuration are (baked into the test assembly by its project).</summary>
internal static class TestRepository
{
    public static string Root { get; } = Metadata("EspRepositoryRoot");

    public static string Configuration { get; } = Metadata("EspConfiguration");

    /// <summary>A file of the repository by its path relative to the root, e.g. <c>build/Esp.Build.Tasks.targets</c>.</summary>
    public static string File(string relativePath) => Path.Combine(Root, relativePath.Replace('/', Path.DirectorySeparatorChar));

    private static string Metadata(string key) =>
        typeof(TestRepository).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == key).Value!;
}
