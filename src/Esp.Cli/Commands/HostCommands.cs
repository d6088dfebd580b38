using System.Reflection;
using System.Text.Json.Nodes;
using static Esp.Cli.CliCommand;

namespace Esp.Cli.Commands;

/// <summary>Commands about this host and its ports: version, list_ports, monitor, simulate.</summary>
internal static class HostCommands
{
    public static IEnumerable<CliCommand> Create() => [Version(), ListPorts(), MonitorCommand.Create(), Simulate.Create()];

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

    private static CliCommand ListPorts() => new()
    {
        Name = "list_ports",
        Usage = "",
        Command = Define("list_ports", "List serial ports with their USB VID:PID, marking known ESP USB bridges."),
        Run = ctx =>
        {
            var ports = ctx.Host.ListPorts();
            var list = new JsonArray();
            if (ports.Count == 0) ctx.Output.Line("No serial ports found.");
            foreach (var p in ports)
            {
                string id = p.Vid is { } v && p.Pid is { } d ? $"{v:X4}:{d:X4}" : "-";
                string desc = string.Join(' ', new[] { p.Manufacturer, p.Product }.Where(s => !string.IsNullOrWhiteSpace(s)));
                ctx.Output.Markup($"{Spectre.Console.Markup.Escape(p.Path),-24} {id,-10} {(p.IsKnownBridge ? $"[green]ESP bridge ({p.Bridge})[/]" : "-"),-28} {Spectre.Console.Markup.Escape(desc)}");
                list.Add(new JsonObject
                {
                    ["port"] = p.Path,
                    ["vid"] = p.Vid,
                    ["pid"] = p.Pid,
                    ["usbId"] = p.Vid is { } v2 && p.Pid is { } d2 ? $"{v2:X4}:{d2:X4}" : null,
                    ["manufacturer"] = p.Manufacturer,
                    ["product"] = p.Product,
                    ["serialNumber"] = p.SerialNumber,
                    ["byId"] = p.ById,
                    ["knownBridge"] = p.IsKnownBridge,
                    ["bridge"] = p.IsKnownBridge ? p.Bridge.ToString() : null,
                });
            }
            var known = ports.Where(p => p.IsKnownBridge).ToList();
            string? chosen = known.Count == 1 ? known[0].Path : null;
            if (ports.Count > 0)
                ctx.Output.Line(chosen is not null ? $"Default port (no --port given): {chosen}"
                    : known.Count == 0 ? "No known ESP bridge: give --port." : "Several ESP bridges: give --port.");
            return Task.FromResult(new JsonObject { ["ports"] = list, ["defaultPort"] = chosen });
        },
    };
}
