using System.CommandLine;
using Esp.Cli.Commands;

namespace Esp.Cli;

/// <summary>The command tree: esptool's commands by their names (underscores and hyphens) plus the global options.</summary>
internal sealed class CliApp
{
    private readonly Dictionary<Command, CliCommand> _byCommand = new();

    public CliApp()
    {
        Globals = new GlobalOptions();
        Root = new RootCommand("dotnet esp: esptool's commands for ESP8266/ESP32 chips, on .NET, with a virtual chip for testing.");
        foreach (var o in Globals.All) Root.Options.Add(o);
        Commands =
        [
            .. FlashCommands.Create(),
            .. MemoryCommands.Create(),
            .. InfoCommands.Create(),
            .. StatusCommands.Create(),
            .. ImageCommands.Create(),
            .. HostCommands.Create(),
        ];
        foreach (var c in Commands)
        {
            Root.Subcommands.Add(c.Command);
            _byCommand[c.Command] = c;
        }
    }

    public GlobalOptions Globals { get; }
    public RootCommand Root { get; }
    public IReadOnlyList<CliCommand> Commands { get; }

    public string UsageLine => "usage: dotnet esp [options] <command> [<args>]";

    public CliCommand? Find(Command command) => _byCommand.GetValueOrDefault(command);

    /// <summary>The command a word names (either spelling), or null.</summary>
    public CliCommand? Find(string word) =>
        Commands.FirstOrDefault(c => c.Command.Name == word || c.Command.Aliases.Contains(word));

    /// <summary>The closest command name to a mistyped word, if it is close.</summary>
    public string? Suggest(string word)
    {
        var w = word.Replace('-', '_').ToLowerInvariant();
        var best = Commands.Select(c => (c.Name, d: Distance(w, c.Name))).OrderBy(x => x.d).FirstOrDefault();
        return best.Name is not null && best.d <= Math.Max(2, w.Length / 3) ? best.Name : null;
    }

    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }
}

/// <summary>Rewrites the few esptool spellings a generic parser cannot express.</summary>
internal static class ArgumentNormalizer
{
    public static string[] Normalize(string[] args, CliApp app)
    {
        var options = OptionNames(app);
        var list = new List<string>(args.Length + 1);
        for (int i = 0; i < args.Length; i++)
        {
            var a = Hyphenated(args[i], options);
            list.Add(a);
            // esptool v4: "--diff yes|no"; v5: a plain "--diff" flag. Accept both.
            if (a == "--diff")
            {
                bool hasValue = i + 1 < args.Length && args[i + 1].ToLowerInvariant() is "yes" or "no" or "true" or "false";
                if (!hasValue) list.Add("yes");
            }
        }
        return [.. list];
    }

    /// <summary>esptool v4 spells options with underscores (<c>--flash_mode</c>): the hyphen spelling, when it is an option.</summary>
    private static string Hyphenated(string arg, HashSet<string> options)
    {
        if (!arg.StartsWith("--", StringComparison.Ordinal) || !arg.Contains('_', StringComparison.Ordinal)) return arg;
        int end = arg.IndexOfAny(['=', ':']);
        var name = end < 0 ? arg : arg[..end];
        var hyphen = name.Replace('_', '-');
        return options.Contains(hyphen) ? hyphen + (end < 0 ? "" : arg[end..]) : arg;
    }

    private static HashSet<string> OptionNames(CliApp app)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var o in app.Root.Options.Concat(app.Commands.SelectMany(c => c.Command.Options)))
        {
            names.Add(o.Name);
            foreach (var alias in o.Aliases) names.Add(alias);
        }
        return names;
    }
}
