using System.Reflection;
using System.Text.Json.Nodes;
using static Esp.Cli.CliCommand;

namespace Esp.Cli.Commands;

/// <summary>Commands about this host: version, list_ports, simulate.</summary>
internal static class HostCommands
{
    public static IEnumerable<CliCommand> Create() => [Version()];

    private static CliCommand Version() => new()
    {
        Name = "version",
        Usage = "",
        Command = Define("version", "Print the version of dotnet esp."),
        Run = ctx =>
        {
            var v = typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";
            ctx.Output.Line($"dotnet esp {v}");
            return Task.FromResult(new JsonObject { ["version"] = v });
        },
    };
}
