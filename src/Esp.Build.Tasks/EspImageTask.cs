using Esp.Protocol.Errors;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;
using Microsoft.Build.Framework;

namespace Esp.Build.Tasks;

/// <summary>
/// Base of the tasks that write or check images: the flash mode/frequency/size for a bootloader image's header
/// (EspFlashMode, EspFlashFreq, EspFlashSize) and composing through the engine's <see cref="DeploymentComposer"/>.
/// </summary>
public abstract class EspImageTask : EspConnectedTask
{
    /// <summary>Flash mode written into a bootloader image's header: keep (default), qio, qout, dio, dout.</summary>
    public string? FlashMode { get; set; }

    /// <summary>Flash frequency written into a bootloader image's header: keep (default), 80m, 40m, …</summary>
    public string? FlashFreq { get; set; }

    /// <summary>Flash size written into a bootloader image's header: keep (default), detect (the chip's flash), 4MB, …</summary>
    public string? FlashSize { get; set; }

    /// <summary>The header settings as given (detect not yet resolved).</summary>
    protected FlashHeaderSettings HeaderSettings => new(NonEmpty(FlashMode), NonEmpty(FlashFreq), NonEmpty(FlashSize));

    /// <summary>Places, pads and patches the images; logs the header patches and an undetectable flash size.</summary>
    protected async Task<ComposedDeployment> ComposeAsync(EspSession session, IReadOnlyList<DeployRequest> requests, ComposeOptions? options, CancellationToken ct)
    {
        var composed = await DeploymentComposer.ComposeAsync(session, requests, (options ?? new ComposeOptions()) with { Header = HeaderSettings }, ct).ConfigureAwait(false);
        foreach (var entry in composed.Entries)
        {
            if (entry.FlashSizeUnknown)
                LogEspWarning(EspErrorCode.FlashSizeNotDetected, $"{entry.Image.Name}: the flash size could not be detected; keeping the image's flash size.", ("EspFlashSize", FlashSize));
            if (entry.HeaderPatched)
                Log.LogMessage(MessageImportance.Normal, "{0}: flash parameters in the header set to {1}.", entry.Image.Name, composed.Header);
        }
        return composed;
    }

    /// <summary>The items (each with Address metadata) as they are to be written: a bootloader image's header patched.</summary>
    protected async Task<List<(ITaskItem Item, uint Address, byte[] Data)>> ComposeItemsAsync(EspSession session, ITaskItem[] items, string parameter, CancellationToken ct)
    {
        var loaded = ImageItems.Load(items, parameter);
        var requests = loaded.Select(l => new DeployRequest(l.Item.ItemSpec, l.Data) { Address = l.Address }).ToList();
        var composed = await ComposeAsync(session, requests, null, ct).ConfigureAwait(false);
        return [.. loaded.Select((l, i) => (l.Item, composed.Images[i].Address, composed.Images[i].Data))];
    }
}
