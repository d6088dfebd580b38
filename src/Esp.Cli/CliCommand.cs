using System.CommandLine;
using System.Text.Json.Nodes;
using Esp.Protocol.Errors;

namespace Esp.Cli;

/// <summary>One command: its esptool name, its parser definition and what it does.</summary>
internal sealed class CliCommand
{
    /// <summary>esptool's name, with underscores (<c>verify_flash</c>); the hyphen spelling is an alias.</summary>
    public required string Name { get; init; }

    /// <summary>The arguments part of the usage line, e.g. <c>[--diff yes|no] &lt;address&gt; &lt;file&gt; ...</c>.</summary>
    public required string Usage { get; init; }

    public required Command Command { get; init; }

    /// <summary>Does the work; returns the JSON payload (people's text is written as it goes).</summary>
    public required Func<CliContext, Task<JsonObject>> Run { get; init; }

    public string UsageLine => $"usage: dotnet esp [options] {Name} {Usage}".TrimEnd();

    /// <summary>A command named the esptool way, also reachable with hyphens (<c>verify-flash</c>).</summary>
    public static Command Define(string name, string description, params Symbol[] symbols)
    {
        var cmd = new Command(name, description);
        var hyphen = name.Replace('_', '-');
        if (hyphen != name) cmd.Aliases.Add(hyphen);
        foreach (var s in symbols)
        {
            switch (s)
            {
                case Argument a: cmd.Arguments.Add(a); break;
                case Option o: cmd.Options.Add(o); break;
            }
        }
        return cmd;
    }

    /// <summary>
    /// An option spelt with hyphens. esptool v4's underscores (<c>--stub_file</c>) are accepted too: the
    /// <see cref="ArgumentNormalizer"/> rewrites them before parsing, so help lists each option once.
    /// </summary>
    public static Option<T> Option<T>(string name, string description, params string[] aliases) =>
        new(name, aliases) { Description = description };

    public static Argument<string> Arg(string name, string description) => new(name) { Description = description };
}

/// <summary>An operation that failed after producing results worth showing (a verify diff, say).</summary>
internal sealed class CommandFailedException(EspException error, JsonObject payload) : Exception(error.Message, error)
{
    public EspException Error { get; } = error;
    public JsonObject Payload { get; } = payload;
}
