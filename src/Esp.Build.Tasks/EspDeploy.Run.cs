using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Esp.Protocol.Images;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Esp.Build.Tasks;

public sealed partial class EspDeploy
{
    /// <summary>
    /// One board's deploy across its sessions (the first and any resumes): compose, guard, plan by MD5, write, verify.
    /// Each board of a farm gets its own, so boards share nothing but the compressed payloads.
    /// </summary>
    private sealed class DeployRun(EspDeploy task, string prefix, CompressionCache? compression)
    {
        private readonly Stopwatch _sw = new();

        public IReadOnlyList<DeployPlanEntry>? Plan { get; private set; }
        public long WriteDone { get; private set; }

        public async Task<DeployOutcome> RunAsync(EspSession session, ResumeAttempt attempt, CancellationToken ct)
        {
            // The time covers every session of a resumed deploy.
            if (!attempt.IsResume) _sw.Restart();
            var log = task.Log;
            var requests = ImageItems.LoadDeployment(task.Images);
            uint tableOffset = NonEmpty(task.PartitionTableAddress) is { } t ? SettingNumber(t, "EspPartitionTableAddress") : PartitionTable.DefaultOffset;
            var composed = await task.ComposeAsync(session, requests, new ComposeOptions
            {
                PartitionTableOffset = tableOffset,
                PartitionAddressOverride = NonEmpty(task.DeployAddress) is { } a && requests.Any(r => r.Address is null) ? SettingNumber(a, "EspDeployAddress") : null,
            }, ct).ConfigureAwait(false);
            foreach (var entry in composed.Entries)
            {
                if (entry.Placement == DeployPlacement.AddressOverride)
                    log.LogMessage(MessageImportance.Normal, "{0}{1}: deploying at {2} (EspDeployAddress).", prefix, entry.Image.Name, Numbers.Hex(entry.Image.Address));
                else if (entry.Partition is { } p)
                    log.LogMessage(MessageImportance.Normal, "{0}{1}: partition '{2}' at {3}, {4} bytes (from the partition table on the chip).", prefix, entry.Image.Name, p.Label, Numbers.Hex(p.Offset), p.Size);
            }
            var findings = await DeployGuards.CheckAsync(session, composed, new GuardOptions
            {
                Force = task.Force,
                ChipRevisionRange = NonEmpty(task.ChipRevisionRange),
                PartitionTableOffset = tableOffset,
            }, ct).ConfigureAwait(false);
            foreach (var f in findings) task.LogEspWarning(f.CodeText, $"{prefix}{f.Message} {f.Help} (ignored: EspForce=true)");
            var options = attempt.DeployOptionsFor(new DeployOptions { Full = task.Full, SharedCompression = compression }, session);
            var progress = task.CreateProgress(prefix: prefix);
            var tracking = new InlineProgress(p =>
            {
                if (p.Operation == "write") WriteDone = p.Done;
                progress.Report(p);
            });
            Plan = await Deployer.PlanAsync(session, composed.Images, options, tracking, ct).ConfigureAwait(false);
            foreach (var entry in Plan)
            {
                log.LogMessage(MessageImportance.Normal, "{0}  plan {1} at {2} ({3} bytes): {4}", prefix, entry.Image.Name, Numbers.Hex(entry.Image.Address), entry.Image.Data.Length,
                    entry.Action == DeployAction.Skip ? "unchanged" : $"write {entry.BytesToWrite} bytes in {entry.Ranges.Count} range(s)");
            }
            var result = await Deployer.ExecuteAsync(session, Plan, options, tracking, ct).ConfigureAwait(false);
            _sw.Stop();
            return Describe(session, attempt, result, _sw.Elapsed);
        }

        private static DeployOutcome Describe(EspSession session, ResumeAttempt attempt, DeployResult result, TimeSpan elapsed)
        {
            bool allVerified = result.Images.All(i => i.Verified);
            string verified = allVerified ? "verified by the chip's MD5" : "NOT verified (this loader cannot compute MD5)";
            string imageText = string.Join("; ", result.Images.Select(i =>
                $"{i.Name} at {Numbers.Hex(i.Address)} ({i.Length} bytes): " +
                (i.BytesWritten == 0 ? "unchanged" : i.BytesWritten == i.Length ? "written" : $"{i.BytesWritten} bytes in {i.WrittenRanges.Count} changed range(s) rewritten")));
            string summary = $"Esp.Build deploy to {session.Chip.Name} on {ShortPort(session.Options.Port)}: " +
                (result.BytesWritten == 0 ? "nothing changed" : $"wrote {result.BytesWritten} bytes") +
                $", {verified}{ResumeNote(attempt)}, {elapsed.TotalSeconds:0.00} s — {imageText}.";
            return new DeployOutcome(result, summary, elapsed, attempt)
            {
                ImagesWritten = result.Images.Count(i => i.BytesWritten > 0),
                ImagesSkipped = result.Images.Count(i => i.Action == DeployAction.Skip),
                AllVerified = allVerified,
            };
        }
    }

    /// <summary>What one board's deploy did, for the outputs, the summary line and the summary file.</summary>
    private sealed record DeployOutcome(DeployResult Result, string Summary, TimeSpan Elapsed, ResumeAttempt Attempt)
    {
        public int ImagesWritten { get; init; }
        public int ImagesSkipped { get; init; }
        public bool AllVerified { get; init; }

        /// <summary>Per image: Address, Length, Action, BytesWritten, WrittenRanges, Verified, Md5.</summary>
        public ITaskItem[] ImageItems() => [.. Result.Images.Select(i =>
        {
            var item = new TaskItem(i.Name);
            item.SetMetadata("Address", Numbers.Hex(i.Address));
            item.SetMetadata("Length", i.Length.ToString(CultureInfo.InvariantCulture));
            item.SetMetadata("Action", i.Action.ToString());
            item.SetMetadata("BytesWritten", i.BytesWritten.ToString(CultureInfo.InvariantCulture));
            item.SetMetadata("WrittenRanges", string.Join(';', i.WrittenRanges.Select(r => $"{Numbers.Hex(r.Address)}+{r.Length}")));
            item.SetMetadata("Verified", i.Verified ? "true" : "false");
            item.SetMetadata("Md5", i.Md5);
            return (ITaskItem)item;
        })];

        /// <summary>The deploy's fields of the summary file (the port and chip are written by the caller).</summary>
        public void WriteJson(Utf8JsonWriter w)
        {
            w.WriteNumber("elapsedMs", Math.Round(Elapsed.TotalMilliseconds, 1));
            w.WriteNumber("bytesWritten", Result.BytesWritten);
            w.WriteNumber("imagesWritten", ImagesWritten);
            w.WriteNumber("imagesSkipped", ImagesSkipped);
            w.WriteBoolean("allVerified", AllVerified);
            w.WriteNumber("wireBytesSent", Result.WireBytesSent);
            w.WriteNumber("wireBytesReceived", Result.WireBytesReceived);
            w.WriteNumber("resumes", Attempt.Number - 1);
            if (Attempt.After is { } after) w.WriteString("resumedAfter", $"{after.CodeText}: {after.Message}");
            w.WriteStartArray("images");
            foreach (var i in Result.Images)
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
        }
    }
}
