using Esp.Protocol.Errors;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Esp.Build.Tasks;

/// <summary>write_flash: writes files at addresses, each checked with the chip's MD5 afterwards.</summary>
public sealed class EspWriteFlash : EspImageTask
{
    [Required] public ITaskItem[] Images { get; set; } = [];

    /// <summary>Check each written range with the chip's MD5 (default true).</summary>
    public bool Verify { get; set; } = true;

    /// <summary>true / false; empty = compress when it helps.</summary>
    public string? Compress { get; set; }

    [Output] public long BytesWritten { get; private set; }

    /// <summary>The written images with Address, Length, Md5, Verified metadata.</summary>
    [Output] public ITaskItem[] Written { get; private set; } = [];

    private readonly List<string> _done = [];
    private readonly List<string> _pending = [];
    private readonly List<ITaskItem> _written = [];
    private readonly Dictionary<string, ResumableWrite> _writes = [];
    private string? _current;
    private long _currentDone, _currentTotal;

    /// <summary>A resume writes the images not yet verified, comparing sector MD5s first, so it rewrites only what is missing.</summary>
    protected override bool CanResume => true;

    protected override async Task RunAsync(EspSession session, CancellationToken ct)
    {
        var images = await ComposeItemsAsync(session, Images, nameof(Images), ct).ConfigureAwait(false);
        bool? compress = NonEmpty(Compress) is { } c ? bool.Parse(c) : null;
        _pending.Clear();
        foreach (var (item, address, data) in images) _pending.Add(Describe(item, address, data));
        _pending.RemoveAll(_done.Contains);
        var progress = CreateProgress();
        foreach (var (item, address, data) in images)
        {
            var name = Describe(item, address, data);
            if (_done.Contains(name)) continue;
            _current = name;
            _pending.Remove(name);
            _currentDone = 0;
            _currentTotal = data.Length;
            var tracking = new InlineProgress(p => { if (p.Operation == "write") _currentDone = p.Done; progress.Report(p with { Detail = item.ItemSpec }); });
            // One per image across sessions: it keeps what a resume needs from the first write.
            if (!_writes.TryGetValue(name, out var write))
                _writes[name] = write = new ResumableWrite(new DeployImage(item.ItemSpec, address, data), new FlashWriteOptions { Verify = Verify, Compress = compress });
            var (md5, verified, note) = Attempt.IsResume
                ? await ResumeImageAsync(session, write, compress, tracking, ct).ConfigureAwait(false)
                : await WriteImageAsync(session, write, tracking, ct).ConfigureAwait(false);
            BytesWritten += data.Length;
            _done.Add(name);
            _current = null;
            var output = new TaskItem(item.ItemSpec);
            output.SetMetadata("Address", Numbers.Hex(address));
            output.SetMetadata("Length", data.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
            output.SetMetadata("Md5", md5);
            output.SetMetadata("Verified", verified ? "true" : "false");
            _written.Add(output);
            Log.LogMessage(MessageImportance.High, "Wrote {0} bytes at {1} from {2}{3}{4}.", data.Length, Numbers.Hex(address), item.ItemSpec,
                verified ? " (verified by MD5)" : "", note);
        }
        Written = [.. _written];
    }

    private static async Task<(string Md5, bool Verified, string Note)> WriteImageAsync(EspSession session, ResumableWrite write,
        IProgress<EspProgress> progress, CancellationToken ct)
    {
        var r = await write.WriteAsync(session, progress, ct).ConfigureAwait(false);
        return (r.Md5, r.Verified, "");
    }

    /// <summary>After a dropped link: compare sector MD5s, rewrite what differs, verify the whole image (even with Verify=false).</summary>
    private async Task<(string Md5, bool Verified, string Note)> ResumeImageAsync(EspSession session, ResumableWrite write,
        bool? compress, IProgress<EspProgress> progress, CancellationToken ct)
    {
        var image = await write.ResumeAsync(session, compress, progress, ct).ConfigureAwait(false);
        return (image.Md5, image.Verified, $"{ResumeNote()}: {image.BytesWritten} bytes rewritten");
    }

    private static string Describe(ITaskItem item, uint address, byte[] data) => $"{item.ItemSpec} at {Numbers.Hex(address)} ({data.Length} bytes)";

    protected override void OnCancelled()
    {
        LogEspWarning(EspErrorCode.Cancelled, "Write cancelled. " +
            $"Written and verified: {(_done.Count == 0 ? "nothing" : string.Join(", ", _done))}. " +
            $"Interrupted (flash now holds partial data): {(_current is null ? "none" : $"{_current}, about {_currentDone} of {_currentTotal} bytes sent")}. " +
            $"Not written: {(_pending.Count == 0 ? "nothing" : string.Join(", ", _pending))}.");
    }
}

/// <summary>read_flash: copies a flash range to a file.</summary>
public sealed class EspReadFlash : EspConnectedTask
{
    [Required] public string Address { get; set; } = "";
    /// <summary>Number of bytes, or "all" for the rest of the flash.</summary>
    [Required] public string Length { get; set; } = "";
    [Required] public string OutputFile { get; set; } = "";

    [Output] public string? Md5 { get; private set; }
    [Output] public int BytesRead { get; private set; }

    protected override async Task RunAsync(EspSession session, CancellationToken ct)
    {
        uint address = ParseUInt(Address, nameof(Address));
        int length;
        if (Length.Trim().Equals("all", StringComparison.OrdinalIgnoreCase))
        {
            await session.EnsureFlashAttachedAsync(ct).ConfigureAwait(false);
            length = (int)((session.FlashSize ?? throw new EspException(EspErrorCode.InvalidArgument, "The flash size is unknown; give Length in bytes.")) - address);
        }
        else length = checked((int)ParseUInt(Length, nameof(Length)));
        var data = await FlashReader.ReadAsync(session, address, length, CreateProgress(), ct).ConfigureAwait(false);
        var dir = Path.GetDirectoryName(Path.GetFullPath(OutputFile));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        await File.WriteAllBytesAsync(OutputFile, data, ct).ConfigureAwait(false);
        BytesRead = data.Length;
        Md5 = FlashMd5.Of(data);
        Log.LogMessage(MessageImportance.High, "Read {0} bytes at {1} into {2}.", data.Length, Numbers.Hex(address), OutputFile);
    }
}

/// <summary>erase_flash / erase_region.</summary>
public sealed class EspEraseFlash : EspConnectedTask
{
    /// <summary>Erase the whole chip (ignores Address/Length).</summary>
    public bool All { get; set; }
    public string? Address { get; set; }
    public string? Length { get; set; }

    protected override async Task RunAsync(EspSession session, CancellationToken ct)
    {
        if (All || (NonEmpty(Address) is null && NonEmpty(Length) is null))
        {
            if (!All) throw new EspException(EspErrorCode.InvalidArgument, "Give Address and Length, or All=\"true\" to erase the whole flash.");
            // One command that the chip takes its time over: there is no progress to show, only that it is under way.
            Log.LogMessage(MessageImportance.Normal, "Erasing the whole flash (this can take a minute on a large flash).");
            await FlashEraser.EraseAllAsync(session, null, ct).ConfigureAwait(false);
            Log.LogMessage(MessageImportance.High, "Erased the whole flash.");
            return;
        }
        uint address = ParseUInt(Address, nameof(Address)), length = ParseUInt(Length, nameof(Length));
        await FlashEraser.EraseRegionAsync(session, address, length, CreateProgress(), ct).ConfigureAwait(false);
        Log.LogMessage(MessageImportance.High, "Erased {0} bytes at {1}.", length, Numbers.Hex(address));
    }
}

/// <summary>verify_flash: compares files with flash by MD5 and, on a mismatch, lists the differing ranges.</summary>
public sealed class EspVerifyFlash : EspImageTask
{
    [Required] public ITaskItem[] Images { get; set; } = [];

    /// <summary>Read back mismatching images and list the differing ranges (default true).</summary>
    public bool Diff { get; set; } = true;

    /// <summary>Log an error (ESP4001) on a mismatch (default true); false only sets the outputs.</summary>
    public bool FailOnMismatch { get; set; } = true;

    [Output] public bool Matched { get; private set; }

    /// <summary>One item per differing range: ItemSpec "0xADDR", metadata Image, Address, Length, FlashBytes, FileBytes.</summary>
    [Output] public ITaskItem[] Mismatches { get; private set; } = [];

    protected override async Task RunAsync(EspSession session, CancellationToken ct)
    {
        // Compared with what EspWriteFlash wrote: the same header patch at the bootloader address.
        var images = await ComposeItemsAsync(session, Images, nameof(Images), ct).ConfigureAwait(false);
        var mismatches = new List<ITaskItem>();
        var failed = new List<string>();
        Matched = true;
        foreach (var (item, address, data) in images)
        {
            var result = await FlashVerifier.VerifyAsync(session, address, data, Diff, CreateProgress(), ct).ConfigureAwait(false);
            if (result.Matched)
            {
                Log.LogMessage(MessageImportance.High, "Verified {0} at {1}: matches ({2} bytes, MD5 {3}).", item.ItemSpec, Numbers.Hex(address), data.Length, result.ExpectedMd5);
                continue;
            }
            Matched = false;
            failed.Add($"{item.ItemSpec} at {Numbers.Hex(address)}");
            Log.LogMessage(MessageImportance.High, "Verify {0} at {1}: differs (flash MD5 {2}, file MD5 {3}).", item.ItemSpec, Numbers.Hex(address), result.FlashMd5, result.ExpectedMd5);
            foreach (var d in result.Differences)
            {
                var m = new TaskItem(Numbers.Hex(d.Address));
                m.SetMetadata("Image", item.ItemSpec);
                m.SetMetadata("Address", Numbers.Hex(d.Address));
                m.SetMetadata("Length", d.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
                m.SetMetadata("FlashBytes", Convert.ToHexStringLower(d.FlashBytes));
                m.SetMetadata("FileBytes", Convert.ToHexStringLower(d.FileBytes));
                mismatches.Add(m);
                Log.LogMessage(MessageImportance.High, "  {0}", d);
            }
        }
        Mismatches = [.. mismatches];
        if (!Matched && FailOnMismatch)
            LogEspError(new EspException(EspErrorCode.VerifyMismatch,
                $"The flash differs from {string.Join(", ", failed)}" + (mismatches.Count > 0 ? $" in {mismatches.Count} range(s)." : ".")));
    }
}
