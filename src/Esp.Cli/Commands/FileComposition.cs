using Esp.Protocol.Images;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;
using static Esp.Cli.Commands.FlashCommands;

namespace Esp.Cli.Commands;

/// <summary>
/// write_flash and verify_flash files as the engine composes them: --flash-mode/--flash-freq/--flash-size applied
/// to the image at the chip's bootloader address (detect = the chip's flash size).
/// </summary>
internal static class FileComposition
{
    /// <summary>The header options; a flash mode is checked before connecting (the chip decides which frequencies and sizes exist).</summary>
    public static FlashHeaderSettings Header(string? mode, string? freq, string? size)
    {
        if (!EspImage.IsKeep(mode) && !EspImage.FlashModes.ContainsKey(mode!))
            throw UsageException.Invalid($"'{mode}' is not a flash mode; use keep, qio, qout, dio or dout.");
        return new FlashHeaderSettings(mode, freq, size);
    }

    /// <summary>The files as they are to be written (or compared), saying which header was patched.</summary>
    public static async Task<ComposedDeployment> ComposeAsync(EspSession session, IReadOnlyList<AddressedFile> files, FlashHeaderSettings header,
        Output output, CancellationToken ct)
    {
        var requests = files.Select(f => new DeployRequest(f.Name, f.Data) { Address = f.Address }).ToList();
        var composed = await DeploymentComposer.ComposeAsync(session, requests, new ComposeOptions { Header = header }, ct).ConfigureAwait(false);
        var h = composed.Header;
        foreach (var entry in composed.Entries)
        {
            if (entry.FlashSizeUnknown) output.Warning("the flash size could not be detected; keeping the image's flash size.");
            if (entry.HeaderPatched)
                output.Line($"Flash parameters set to {h.Mode ?? "keep"}/{h.Frequency ?? "keep"}/{h.Size ?? "keep"} in the image at 0x{entry.Image.Address:x8}.");
        }
        return composed;
    }
}
