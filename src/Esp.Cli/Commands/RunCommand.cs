using System.Text.Json.Nodes;
using Esp.Protocol.Operations;
using static Esp.Cli.CliCommand;

namespace Esp.Cli.Commands;

/// <summary>run: leave the loader and run the application in flash (esptool's run).</summary>
internal static class RunCommand
{
    public static CliCommand Create() => new()
    {
        Name = "run",
        Usage = "",
        Command = Define("run", "Leave the loader and run the application in flash (then the --after action, a hard reset by default)."),
        Run = ctx => ctx.WithSessionAsync(async session =>
        {
            bool left = await AppRunner.RunAsync(session, ctx.CancellationToken).ConfigureAwait(false);
            bool hardReset = session.Options.AfterMode == "hard-reset";
            if (left) ctx.Output.Line("The ROM loader runs the application from flash.");
            else if (!hardReset)
                ctx.Output.Warning("the flasher stub stays in its loader on run: the application starts only with --after hard-reset, or run with --no-stub.");
            ctx.Output.Completed.Add("asked the chip to run its application");
            return new JsonObject { ["loaderLeft"] = left };
        }),
    };
}
