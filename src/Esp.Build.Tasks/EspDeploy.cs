using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Esp.Protocol.Errors;
using Esp.Protocol.Images;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Esp.Build.Tasks;

/// <summary>
/// The Deploy target's task: connect, plan by the chip's MD5 (whole image, 64 KiB blocks, 4 KiB sectors), write
/// only what differs, verify every image with the chip's MD5, reset. Writes a JSON summary for CI and logs a one-line
/// summary at high importance.
/// </summary>
/// <remarks>
/// Images are task items: ItemSpec = file, metadata <c>Address</c>. An item with <c>Partition="deploy"</c> (or a
/// subtype such as <c>0x84</c>) and no Address is placed at that data partition of the table read from the chip at
/// <see cref="PartitionTableAddress"/> (unless <see cref="DeployAddress"/> overrides it) and refused when larger
/// than the partition (ESP4004). <c>EnsureErasedAfter="true"</c> appends an erased word (4 × 0xFF) so the word after
/// the image reads erased, as the nanoFramework CLR needs. The engine's <see cref="DeploymentComposer"/> does this
/// and patches a bootloader image's header; the guards reuse the partition table it read.
/// </remarks>
public sealed class EspDeploy : EspImageTask
{
    [Required] public ITaskItem[] Images { get; set; } = [];

    /// <summary>Overrides the partition-table address of images that name a partition.</summary>
    public string? DeployAddress { get; set; }

    /// <summary>Where the partition table is read from (default 0x8000).</summary>
    public string? PartitionTableAddress { get; set; }

    /// <summary>Write everything without comparing first.</summary>
    public bool Full { get; set; }

    /// <summary>Deploy even when a guard (image chip, revision, flash size, partitions, security) objects; findings become warnings.</summary>
    public bool Force { get; set; }

    /// <summary>Required chip revision range, e.g. [3.0,) (EspChipRevision).</summary>
    public string? ChipRevisionRange { get; set; }

    /// <summary>JSON summary for CI (written when set).</summary>
    public string? SummaryFile { get; set; }

    [Output] public long BytesWritten { get; private set; }
    [Output] public int ImagesWritten { get; private set; }
    [Output] public int ImagesSkipped { get; private set; }
    [Output] public bool AllVerified { get; private set; }
    /// <summary>One line, as logged.</summary>
    [Output] public string? Summary { get; private set; }
    /// <summary>Per image: Address, Length, Action, BytesWritten, WrittenRanges, Verified, Md5.</summary>
    [Output] public ITaskItem[] DeployedImages { get; private set; } = [];

    private IReadOnlyList<DeployPlanEntry>? _plan;
    private long _writeDone;
    private readonly Stopwatch _sw = new();

    /// <summary>Every session plans from the chip's MD5s, so running again after a dropped link writes only what is missing.</summary>
    protected override bool CanResume => true;

    protected override async Task RunAsync(EspSession session, CancellationToken ct)
    {
        // The time covers every session of a resumed deploy.
        if (!Attempt.IsResume) _sw.Restart();
        var sw = _sw;
        var requests = ImageItems.LoadDeployment(Images);
        uint tableOffset = NonEmpty(PartitionTableAddress) is { } t ? SettingNumber(t, "EspPartitionTableAddress") : PartitionTable.DefaultOffset;
        var composed = await ComposeAsync(session, requests, new ComposeOptions
        {
            PartitionTableOffset = tableOffset,
            PartitionAddressOverride = NonEmpty(DeployAddress) is { } a && requests.Any(r => r.Address is null) ? SettingNumber(a, "EspDeployAddress") : null,
        }, ct).ConfigureAwait(false);
        foreach (var entry in composed.Entries)
        {
            if (entry.Placement == DeployPlacement.AddressOverride)
                Log.LogMessage(MessageImportance.Normal, "{0}: deploying at {1} (EspDeployAddress).", entry.Image.Name, Numbers.Hex(entry.Image.Address));
            else if (entry.Partition is { } p)
                Log.LogMessage(MessageImportance.Normal, "{0}: partition '{1}' at {2}, {3} bytes (from the partition table on the chip).", entry.Image.Name, p.Label, Numbers.Hex(p.Offset), p.Size);
        }
        var images = composed.Images;
        var findings = await DeployGuards.CheckAsync(session, composed, new GuardOptions
        {
            Force = Force,
            ChipRevisionRange = NonEmpty(ChipRevisionRange),
            PartitionTableOffset = tableOffset,
        }, ct).ConfigureAwait(false);
        foreach (var f in findings) LogEspWarning(f.CodeText, $"{f.Message} {f.Help} (ignored: EspForce=true)");
        // A resume always compares first: writing everything again would throw away what the last session wrote.
        var options = new DeployOptions { Full = Full && !Attempt.IsResume };
        var progress = CreateProgress();
        var tracking = new InlineProgress(p =>
        {
            if (p.Operation == "write") _writeDone = p.Done;
            progress.Report(p);
        });
        _plan = await Deployer.PlanAsync(session, images, options, tracking, ct).ConfigureAwait(false);
        foreach (var entry in _plan)
        {
            Log.LogMessage(MessageImportance.Normal, "  plan {0} at {1} ({2} bytes): {3}", entry.Image.Name, Numbers.Hex(entry.Image.Address), entry.Image.Data.Length,
                entry.Action == DeployAction.Skip ? "unchanged" : $"write {entry.BytesToWrite} bytes in {entry.Ranges.Count} range(s)");
        }
        var result = await Deployer.ExecuteAsync(session, _plan, options, tracking, ct).ConfigureAwait(false);
        sw.Stop();

        BytesWritten = result.BytesWritten;
        ImagesWritten = result.Images.Count(i => i.BytesWritten > 0);
        ImagesSkipped = result.Images.Count(i => i.Action == DeployAction.Skip);
        AllVerified = result.Images.All(i => i.Verified);
        var items = new List<ITaskItem>();
        foreach (var i in result.Images)
        {
            var item = new TaskItem(i.Name);
            item.SetMetadata("Address", Numbers.Hex(i.Address));
            item.SetMetadata("Length", i.Length.ToString(CultureInfo.InvariantCulture));
            item.SetMetadata("Action", i.Action.ToString());
            item.SetMetadata("BytesWritten", i.BytesWritten.ToString(CultureInfo.InvariantCulture));
            item.SetMetadata("WrittenRanges", string.Join(';', i.WrittenRanges.Select(r => $"{Numbers.Hex(r.Address)}+{r.Length}")));
            item.SetMetadata("Verified", i.Verified ? "true" : "false");
            item.SetMetadata("Md5", i.Md5);
            items.Add(item);
        }
        DeployedImages = [.. items];

        string verified = AllVerified ? "verified by the chip's MD5" : "NOT verified (this loader cannot compute MD5)";
        string imageText = string.Join("; ", result.Images.Select(i =>
            $"{i.Name} at {Numbers.Hex(i.Address)} ({i.Length} bytes): " +
            (i.BytesWritten == 0 ? "unchanged" : i.BytesWritten == i.Length ? "written" : $"{i.BytesWritten} bytes in {i.WrittenRanges.Count} changed range(s) rewritten")));
        Summary = $"Esp.Build deploy to {session.Chip.Name} on {ShortPort(UsedPort)}: " +
            (BytesWritten == 0 ? "nothing changed" : $"wrote {BytesWritten} bytes") +
            $", {verified}{ResumeNote()}, {sw.Elapsed.TotalSeconds:0.00} s — {imageText}.";
        Log.LogMessage(MessageImportance.High, "{0}", Summary);
        if (NonEmpty(SummaryFile) is { } summaryFile)
            WriteSummary(summaryFile, session, result, sw.Elapsed);
    }

    private static uint SettingNumber(string text, string property) =>
        Numbers.TryParse(text, out uint value) ? value : throw new EspSettingException(EspErrorCode.InvalidNumber, property, text, $"{property} '{text}' is not a number.");

    /// <summary>A revision outside EspChipRevision, or a range that does not parse, points at the line that sets it.</summary>
    protected override (string Property, string? Value)? SettingBehind(EspException ex) =>
        ex.Code is EspErrorCode.InvalidVersionRange or EspErrorCode.ChipRevisionOutOfRange && NonEmpty(ChipRevisionRange) is not null
            ? ("EspChipRevision", ChipRevisionRange)
            : base.SettingBehind(ex);

    /// <summary>The port without a sim: URI's query (file paths), to keep the summary on one readable line.</summary>
    private static string ShortPort(string? port) =>
        port is null ? "?" : port.StartsWith("sim:", StringComparison.OrdinalIgnoreCase) && port.IndexOf('?') is var q and > 0 ? port[..q] + " (virtual chip)" : port;

    private void WriteSummary(string path, EspSession session, DeployResult result, TimeSpan elapsed)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("port", UsedPort);
        w.WriteString("chip", session.Chip.Name);
        w.WriteString("time", DateTimeOffset.UtcNow.ToString("o", CultureInfo.InvariantCulture));
        w.WriteNumber("elapsedMs", Math.Round(elapsed.TotalMilliseconds, 1));
        w.WriteNumber("bytesWritten", result.BytesWritten);
        w.WriteNumber("imagesWritten", ImagesWritten);
        w.WriteNumber("imagesSkipped", ImagesSkipped);
        w.WriteBoolean("allVerified", AllVerified);
        w.WriteNumber("wireBytesSent", result.WireBytesSent);
        w.WriteNumber("wireBytesReceived", result.WireBytesReceived);
        w.WriteNumber("resumes", Resumes);
        if (Attempt.After is { } after) w.WriteString("resumedAfter", $"{after.CodeText}: {after.Message}");
        w.WriteStartArray("images");
        foreach (var i in result.Images)
        {
            w.WriteStartObject();
            w.WriteString("name", i.Name);
            w.WriteString("address", Numbers.Hex(i.Address));
            w.WriteNumber("length", i.Length);
            w.WriteString("action", i.Action switch { DeployAction.Skip => "skipped", DeployAction.WriteChanged => "written-changed-sectors", _ => "written-all" });
            w.WriteNumber("bytesWritten", i.BytesWritten);
            w.WriteStartArray("writtenRanges");
            foreach (var (a, l) in i.WrittenRanges)
            {
                w.WriteStartObject();
                w.WriteString("address", Numbers.Hex(a));
                w.WriteNumber("length", l);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteBoolean("verified", i.Verified);
            w.WriteString("md5", i.Md5);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteString("summary", Summary);
        w.WriteEndObject();
    }

    protected override void OnCancelled()
    {
        if (_plan is null)
        {
            LogEspWarning(EspErrorCode.Cancelled, "Deploy cancelled before anything was written: the flash is unchanged.");
            return;
        }
        long total = _plan.Sum(p => p.BytesToWrite);
        LogEspWarning(EspErrorCode.Cancelled, $"Deploy cancelled after about {_writeDone} of {total} planned bytes were written " +
            $"({string.Join(", ", _plan.Select(p => $"{p.Image.Name}: {(p.Action == DeployAction.Skip ? "unchanged" : $"{p.BytesToWrite} bytes planned")}"))}). " +
            "The flash may now hold a partial image; run Deploy again to finish (only what differs is rewritten).");
    }
}
