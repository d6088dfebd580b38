using System.Globalization;
using Esp.Protocol.Errors;
using Esp.Protocol.Farm;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;
using Microsoft.Build.Framework;

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
public sealed partial class EspDeploy : EspImageTask
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

    private DeployRun? _run;

    /// <summary>Every session plans from the chip's MD5s, so running again after a dropped link writes only what is missing.</summary>
    protected override bool CanResume => true;

    /// <summary>Several boards (an EspPort list, EspPort=all, EspBoard items) each get their own deploy.</summary>
    private protected override bool CanRunOnManyBoards => true;

    private protected override string? BoardsSummaryFile => NonEmpty(SummaryFile);

    protected override async Task RunAsync(EspSession session, CancellationToken ct)
    {
        _run ??= new DeployRun(this, "", null);
        var outcome = await _run.RunAsync(session, Attempt, ct).ConfigureAwait(false);
        BytesWritten = outcome.Result.BytesWritten;
        ImagesWritten = outcome.ImagesWritten;
        ImagesSkipped = outcome.ImagesSkipped;
        AllVerified = outcome.AllVerified;
        DeployedImages = outcome.ImageItems();
        Summary = outcome.Summary;
        Log.LogMessage(MessageImportance.High, "{0}", Summary);
        if (NonEmpty(SummaryFile) is { } summaryFile)
            WriteSummary(summaryFile, session, outcome);
    }

    private protected override BoardWork CreateBoardWork(Board board, string prefix, CompressionCache compression)
    {
        var run = new DeployRun(this, prefix, compression);
        return async (session, attempt, ct) =>
        {
            var outcome = await run.RunAsync(session, attempt, ct).ConfigureAwait(false);
            Log.LogMessage(MessageImportance.High, "{0}{1}", prefix, outcome.Summary);
            return new BoardReport(outcome.Result.BytesWritten == 0 ? "unchanged" : "written", outcome.Summary)
            {
                BytesWritten = outcome.Result.BytesWritten,
                Verified = outcome.AllVerified,
                Metadata = new Dictionary<string, string>
                {
                    ["ImagesWritten"] = outcome.ImagesWritten.ToString(CultureInfo.InvariantCulture),
                    ["ImagesSkipped"] = outcome.ImagesSkipped.ToString(CultureInfo.InvariantCulture),
                },
                WriteJson = outcome.WriteJson,
            };
        };
    }

    private static uint SettingNumber(string text, string property) =>
        Numbers.TryParse(text, out uint value) ? value : throw new EspSettingException(EspErrorCode.InvalidNumber, property, text, $"{property} '{text}' is not a number.");

    /// <summary>A revision outside EspChipRevision, or a range that does not parse, points at the line that sets it.</summary>
    protected override (string Property, string? Value)? SettingBehind(EspException ex) =>
        ex.Code is EspErrorCode.InvalidVersionRange or EspErrorCode.ChipRevisionOutOfRange && NonEmpty(ChipRevisionRange) is not null
            ? ("EspChipRevision", ChipRevisionRange)
            : base.SettingBehind(ex);

    private void WriteSummary(string path, EspSession session, DeployOutcome outcome) => BoardSummary.WriteFile(path, w =>
    {
        w.WriteStartObject();
        w.WriteString("port", UsedPort);
        w.WriteString("chip", session.Chip.Name);
        w.WriteString("time", DateTimeOffset.UtcNow.ToString("o", CultureInfo.InvariantCulture));
        outcome.WriteJson(w);
        w.WriteEndObject();
    });

    protected override void OnCancelled()
    {
        if (OnManyBoards) return;
        if (_run?.Plan is not { } plan)
        {
            LogEspWarning(EspErrorCode.Cancelled, "Deploy cancelled before anything was written: the flash is unchanged.");
            return;
        }
        long total = plan.Sum(p => p.BytesToWrite);
        LogEspWarning(EspErrorCode.Cancelled, $"Deploy cancelled after about {_run.WriteDone} of {total} planned bytes were written " +
            $"({string.Join(", ", plan.Select(p => $"{p.Image.Name}: {(p.Action == DeployAction.Skip ? "unchanged" : $"{p.BytesToWrite} bytes planned")}"))}). " +
            "The flash may now hold a partial image; run Deploy again to finish (only what differs is rewritten).");
    }
}
