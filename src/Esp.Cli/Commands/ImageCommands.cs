namespace Esp.Cli.Commands;

/// <summary>image_info, merge_bin, elf2image (host-only: no chip needed).</summary>
internal static class ImageCommands
{
    public static IEnumerable<CliCommand> Create() => [];
}
