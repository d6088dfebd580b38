using System.Text.RegularExpressions;
using Esp.Protocol.Chips;
using Esp.Protocol.Commands;
using Esp.Protocol.Errors;
using Esp.Protocol.Loader.Reset;

namespace Esp.Protocol.Loader;

/// <summary>Reaching the loader: reset strategies, SYNC, and chip detection.</summary>
public sealed partial class EspSession
{
    /// <summary>Runs the reset strategies until a SYNC is answered; true when a flasher stub answered it.</summary>
    private async Task<bool> ResetAndSyncAsync(string before, CancellationToken ct)
    {
        var strategies = ResetStrategies.For(before, Transport, Options.CustomResetSequence);
        int attempts = Options.ConnectAttempts <= 0 ? int.MaxValue : Options.ConnectAttempts;
        string bootLog = "";
        EspException? last = null;
        for (int attempt = 0; attempt < attempts; attempt++)
        {
            ct.ThrowIfCancellationRequested();
            Link.DiscardInput();
            Link.TakeOutOfFrameText();
            if (strategies.Count > 0)
                await strategies[attempt % strategies.Count].RunAsync(Transport, ct).ConfigureAwait(false);
            for (int i = 0; i < 5; i++)
            {
                try
                {
                    // Every other try shifts the delimiter phase: a stub left by a session cut mid-frame is in step again.
                    if (i % 2 == 1) await Link.SendDelimiterAsync(ct).ConfigureAwait(false);
                    bool stub = await SyncAsync(ct).ConfigureAwait(false);
                    return i == 0 ? stub : await ConfirmInStepAsync(stub, ct).ConfigureAwait(false);
                }
                catch (EspException ex) when (ex.Code is EspErrorCode.Timeout or EspErrorCode.ProtocolViolation
                    || ex is EspCommandException { Opcode: (byte)Opcode.Sync })
                {
                    // Every loader answers SYNC: a refusal means the SYNC frame was damaged on the way.
                    last = ex;
                    var text = Link.TakeOutOfFrameText();
                    if (text.Length > 0) bootLog = text;
                    await Task.Delay(50, ct).ConfigureAwait(false);
                }
            }
        }

        var boot = BootModeRegex().Match(bootLog);
        if (boot.Success && !bootLog.Contains("waiting for download", StringComparison.Ordinal))
            throw new EspException(EspErrorCode.WrongBootMode,
                $"The chip on {Transport.Name} booted normally (boot mode 0x{boot.Groups[1].Value}) instead of entering download mode.");
        throw new EspException(EspErrorCode.NoSyncReply,
            $"No sync reply from a chip on {Transport.Name} after {Math.Min(attempts, 1000)} attempts" +
            (bootLog.Length > 0 ? " (download mode was detected in the boot log)." : "."), inner: last);
    }

    [GeneratedRegex(@"boot:0x([0-9a-fA-F]+)")]
    private static partial Regex BootModeRegex();

    /// <summary>
    /// After a sync that needed more than one try: the reply may have answered an earlier try, sent before the last
    /// delimiter shift put a toggling decoder out of step again (a slow link or a busy host delays replies past the
    /// sync timeout). Only the answer to a request of another opcode, sent now, proves the phase (late SYNC replies are
    /// skipped by their opcode); without one, shift once more and ask again. A refusal is an answer too.
    /// </summary>
    private async Task<bool> ConfirmInStepAsync(bool stub, CancellationToken ct)
    {
        var probe = LoaderCommands.ReadReg(ProtocolConstants.ChipDetectMagicRegister);
        var wait = Max(Timeouts.Command, LinkAllowance(60));
        for (bool shifted = false; ;)
        {
            await Link.SendAsync(probe.ToPacket(), ct).ConfigureAwait(false);
            try
            {
                await Commands.ReadReplyAsync(probe.Op, wait, probe.ReplyDataLength, ct).ConfigureAwait(false);
                return stub;
            }
            catch (EspCommandException)
            {
                return stub;
            }
            catch (EspException ex) when (!shifted && ex.Code == EspErrorCode.Timeout)
            {
                shifted = true;
                await Link.SendDelimiterAsync(ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// One SYNC: the first reply within the sync timeout, then the other seven (fewer are tolerated). True when the
    /// answers come from a flasher stub (value 0; the ROM never sends 0).
    /// </summary>
    public async Task<bool> SyncAsync(CancellationToken ct)
    {
        var sync = LoaderCommands.Sync();
        await SendAsync(sync, ct).ConfigureAwait(false);
        var first = await Commands.ReadReplyAsync(Opcode.Sync, Max(Timeouts.Sync, LinkAllowance(60)), 0, ct).ConfigureAwait(false);
        bool allZero = first.Value == 0;
        for (int i = 0; i < 7; i++)
        {
            try
            {
                var more = await Commands.ReadReplyAsync(Opcode.Sync, Max(Timeouts.Sync, LinkAllowance(20)), 0, ct).ConfigureAwait(false);
                allZero &= more.Value == 0;
            }
            catch (EspException ex) when (ex.Code == EspErrorCode.Timeout)
            {
                break;
            }
        }
        return allZero;
    }

    /// <summary>
    /// The chip-detect word. The ESP32 and ESP8266 ROMs refuse GET_SECURITY_INFO under another opcode and may repeat the
    /// refusal; one that arrives after the drain would pass for a refusal of this READ_REG. Those ROMs know READ_REG
    /// (only Secure Download Mode refuses it, and there GET_SECURITY_INFO answered), so it is asked again.
    /// </summary>
    private async Task<uint> ReadMagicAsync(CancellationToken ct)
    {
        for (int i = 0; ; i++)
        {
            try
            {
                return await ReadRegAsync(ProtocolConstants.ChipDetectMagicRegister, ct).ConfigureAwait(false);
            }
            catch (EspException ex) when (ex.Code == EspErrorCode.UnsupportedCommand && Security is null && i < 2)
            {
                await Link.DrainAsync(TimeSpan.FromMilliseconds(200), ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Time for <paramref name="bytes"/> to cross the link at the current baud, with a margin.</summary>
    private TimeSpan LinkAllowance(int bytes) =>
        TimeSpan.FromMilliseconds(20 + bytes * 10_000.0 / Math.Max(1200, Transport.BaudRate));

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private async Task DetectChipAsync(ChipDefinition? requested, bool stubAnswers, CancellationToken ct)
    {
        // Replies follow the loader that answers; its chip is not known yet, which only matters for the ROM's status bytes.
        Use(stubAnswers ? new StubLoader(Chip, usbOtg: false) : new RomLoader(Chip));
        ChipDefinition? detected = null;
        try
        {
            var reply = await ExecuteAsync(LoaderCommands.GetSecurityInfo(), ct).ConfigureAwait(false);
            if (reply.Data.Length >= 12)
            {
                Security = SecurityInfo.Parse(reply.Data);
                if (Security.ChipId is { } id)
                    detected = ChipDatabase.All.FirstOrDefault(c => c.DetectBySecurityInfo && c.ImageChipId == id);
            }
        }
        catch (EspException ex) when (ex.Code is EspErrorCode.UnsupportedCommand or EspErrorCode.RomError or EspErrorCode.StubError)
        {
            // ESP8266 / ESP32 ROMs do not know the command and may repeat the error reply; let them finish.
            await Link.DrainAsync(TimeSpan.FromMilliseconds(200), ct).ConfigureAwait(false);
        }

        if (detected is null)
        {
            try
            {
                uint magic = await ReadMagicAsync(ct).ConfigureAwait(false);
                detected = ChipDatabase.ByMagic(magic);
                if (detected is null && requested is null)
                    throw new EspException(EspErrorCode.UnknownChip,
                        $"The chip's identification word is 0x{magic:X8}, which matches no known chip.",
                        "Select the chip explicitly with --chip / EspChip if it is supported.");
            }
            catch (EspException ex) when (ex.Code == EspErrorCode.UnsupportedCommand && Security is not null)
            {
                // READ_REG refused while GET_SECURITY_INFO worked without a chip id: an ESP32-S2 in Secure Download Mode.
                detected = ChipDatabase.Esp32S2;
            }
        }

        if (requested is not null && detected is not null && requested != detected)
            throw new EspException(EspErrorCode.ChipMismatch,
                $"This chip is {detected.Name}, not {requested.Name}.",
                $"Use --chip {detected.Key} (EspChip={detected.Key}) or --chip auto.");
        Chip = detected ?? requested ?? throw new EspException(EspErrorCode.UnknownChip, "The chip type could not be detected.");
    }
}
