namespace Esp.Protocol.Tests.Transport.Discovery;

/// <summary>The recorded registry contents and ioreg outputs next to the tests.</summary>
internal static class Fixture
{
    public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "Transport", "Discovery", "Fixtures", name);

    public static string Text(string name) => File.ReadAllText(PathOf(name));

    public static RegFileRegistry Registry(string name) => RegFileRegistry.Load(PathOf(name));
}
