using System.Buffers.Binary;
using System.Text.RegularExpressions;
using Esp.Protocol.Chips;
using Esp.Protocol.Commands;
using Esp.Protocol.Errors;
using Esp.Protocol.Loader.Reset;
using Esp.Protocol.Transport;

namespace Esp.Protocol.Loader;

/// <summary>
/// A connected chip: the ROM loader or, after a stub upload, the flasher stub. Holds what was learnt while
/// connecting (chip, security state) and offers the loader's commands. Operations build on it.
/// </summary>
public sealed partial class EspSession : IAsyncDisposable
{
    private readonly bool _ownsTransport;
    private bool _flashAttached;
    private bool _finished;

    private EspSession(ConnectOptions options, IEspTransport transport, bool ownsTransport)
    {
        Options = options;
        Transport = transport;
        _ownsTransport = ownsTransport;
        Link = new SlipLink(transport) { Trace = options.Trace };
        Commands = new CommandClient(Link, options.Timeouts);
    }

    public ConnectOptions Options { get; }
    public IEspTransport Transport { get; }
    public SlipLink Link { get; }
    public CommandClient Commands { get; }
    public EspTimeouts Timeouts => Options.Timeouts;

    public ChipDefinition Chip { get; private set; } = ChipDatabase.Esp32;
    public SecurityInfo? Security { get; private set; }
    public bool IsStub { get; private set; }
    /// <summary>The stub that was uploaded in this session (null when it was already running or not used).</summary>
    public StubImage? Stub { get; private set; }
    /// <summary>Flash size in bytes once known (from RDID), else null.</summary>
    public int? FlashSize { get; private set; }
    public uint? FlashId { get; private set; }

    public bool SecureDownloadMode => Security?.SecureDownloadMode ?? false;

    /// <summary>Requests the loader takes in flight: the ROM's as its chip record says, the stub's one at a time.</summary>
    public LoaderWindows Windows => Options.Windows ?? (IsStub ? LoaderWindows.LockStep : Chip.RomWindows);

    /// <summary>True when the link is the chip's own USB-OTG port (Espressif's USB id with the chip id as product id).</summary>
    public bool UsesUsbOtg => Chip.HasUsbOtg && Transport.UsbId is { Vid: 0x303A } id && id.Pid == Chip.ImageChipId;

    /// <summary>Largest *_DATA payload for flash writes.</summary>
    public int FlashBlockSize => !IsStub ? ProtocolConstants.RomFlashBlockSize
        : UsesUsbOtg ? ProtocolConstants.UsbOtgBlockSize : ProtocolConstants.StubFlashBlockSize;

    /// <summary>Largest MEM_DATA payload.</summary>
    public int RamBlockSize => UsesUsbOtg ? ProtocolConstants.UsbOtgBlockSize : ProtocolConstants.RamBlockSize;

    private void Log(string message) => Options.Log?.Invoke(message);

    /// <summary>
    /// A session on a link whose chip is already known and synced (tests, replay, and hosts that connected
    /// by other means). No bytes are exchanged here.
    /// </summary>
    public static EspSession Attach(IEspTransport transport, ChipDefinition chip, bool isStub, ConnectOptions? options = null, bool flashAttached = false)
    {
        var session = new EspSession(options ?? new ConnectOptions { Port = transport.Name }, transport, ownsTransport: false)
        {
            Chip = chip,
            IsStub = isStub,
            _flashAttached = flashAttached,
        };
        session.Commands.IsStub = isStub;
        session.Commands.StatusBytes = isStub ? 2 : chip.RomStatusBytes;
        return session;
    }

    /// <summary>Opens the port, resets the chip into its bootloader, syncs, detects the chip and starts the stub.</summary>
    public static async Task<EspSession> ConnectAsync(ConnectOptions options, CancellationToken cancellationToken = default)
    {
        bool owns = options.Transport is null;
        var transport = options.Transport ?? await TransportFactory.OpenAsync(options.Port,
            new TransportOptions { BaudRate = Math.Min(ProtocolConstants.RomDefaultBaud, options.Baud) }, cancellationToken).ConfigureAwait(false);
        var session = new EspSession(options, transport, owns);
        try
        {
            await session.ConnectCoreAsync(cancellationToken).ConfigureAwait(false);
            return session;
        }
        catch
        {
            session._finished = true;
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task ConnectCoreAsync(CancellationToken ct)
    {
        var before = Options.Before.Replace('_', '-').ToLowerInvariant();
        ChipDefinition? requested = Options.Chip.Equals("auto", StringComparison.OrdinalIgnoreCase) ? null : ChipDatabase.Get(Options.Chip);

        if (before != "no-reset-no-sync")
        {
            Log($"Connecting to {Transport.Name}...");
            await ResetAndSyncAsync(before, ct).ConfigureAwait(false);
        }
        else
        {
            // No sync: the caller says what is running (a stub left by an earlier session unless --no-stub).
            IsStub = !Options.NoStub;
        }

        await DetectChipAsync(requested, ct).ConfigureAwait(false);
        Commands.StatusBytes = IsStub ? 2 : Chip.RomStatusBytes;
        Log($"Chip is {Chip.Name}{(IsStub ? " (stub already running)" : "")}");

        if (!IsStub && !Options.NoStub)
        {
            if (SecureDownloadMode)
                Log("Secure Download Mode is on: the stub cannot be uploaded; continuing with the ROM loader.");
            else if (await ChooseStubAsync(ct).ConfigureAwait(false) is { } stub)
                await UploadStubAsync(stub, ct).ConfigureAwait(false);
        }

        if (Options.Baud != Transport.BaudRate && Options.Baud > 0)
            await ChangeBaudAsync(Options.Baud, ct).ConfigureAwait(false);
    }

    private async Task ResetAndSyncAsync(string before, CancellationToken ct)
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
                    await SyncAsync(ct).ConfigureAwait(false);
                    return;
                }
                catch (EspException ex) when (ex.Code is EspErrorCode.Timeout or EspErrorCode.ProtocolViolation)
                {
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
            (bootLog.Length > 0 ? " (download mode was detected in the boot log)." : ".") , inner: last);
    }

    [GeneratedRegex(@"boot:0x([0-9a-fA-F]+)")]
    private static partial Regex BootModeRegex();

    /// <summary>One SYNC: the first reply within the sync timeout, then the other seven (fewer are tolerated).</summary>
    public async Task SyncAsync(CancellationToken ct)
    {
        await Link.SendAsync(Request.Build(Opcode.Sync, ProtocolConstants.SyncPayload), ct).ConfigureAwait(false);
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
        // A stub answers SYNC with value 0; the ROM never does.
        if (allZero)
        {
            IsStub = true;
            Commands.IsStub = true;
        }
    }

    /// <summary>Time for <paramref name="bytes"/> to cross the link at the current baud, with a margin.</summary>
    private TimeSpan LinkAllowance(int bytes) =>
        TimeSpan.FromMilliseconds(20 + bytes * 10_000.0 / Math.Max(1200, Transport.BaudRate));

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private async Task DetectChipAsync(ChipDefinition? requested, CancellationToken ct)
    {
        ChipDefinition? detected = null;
        try
        {
            var reply = await Commands.ExecuteAsync(Opcode.GetSecurityInfo, ReadOnlyMemory<byte>.Empty,
                expectedDataLength: CommandClient.SecurityInfoLength, cancellationToken: ct).ConfigureAwait(false);
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
                uint magic = await ReadRegAsync(ProtocolConstants.ChipDetectMagicRegister, ct).ConfigureAwait(false);
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

    // ---------------------------------------------------------------- basic commands

    public async Task<uint> ReadRegAsync(uint address, CancellationToken ct = default) =>
        (await Commands.ExecuteAsync(Opcode.ReadReg, Request.Words(address), cancellationToken: ct).ConfigureAwait(false)).Value;

    public Task WriteRegAsync(uint address, uint value, uint mask = 0xFFFFFFFF, uint delayUs = 0, CancellationToken ct = default) =>
        Commands.ExecuteAsync(Opcode.WriteReg, Request.Words(address, value, mask, delayUs), cancellationToken: ct);

    /// <summary>Loads bytes into RAM with MEM_BEGIN / MEM_DATA (no MEM_END).</summary>
    public async Task WriteRamAsync(uint address, ReadOnlyMemory<byte> data, IProgress<EspProgress>? progress = null,
        string label = "load_ram", CancellationToken ct = default)
    {
        int block = RamBlockSize;
        uint blocks = (uint)((data.Length + block - 1) / block);
        await Commands.ExecuteAsync(Opcode.MemBegin, Request.Words((uint)data.Length, blocks, (uint)block, address), cancellationToken: ct).ConfigureAwait(false);
        for (uint seq = 0; seq < blocks; seq++)
        {
            int offset = (int)seq * block;
            var chunk = data.Slice(offset, Math.Min(block, data.Length - offset));
            var packet = Request.BuildData(Opcode.MemData, chunk.Span, seq);
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    await Commands.ExecutePacketAsync(packet, cancellationToken: ct).ConfigureAwait(false);
                    break;
                }
                catch (EspException ex) when (attempt < 3 && Operations.FlashWriter.IsTransient(ex))
                {
                    // MEM_DATA places a block by its sequence number, so sending it again is harmless.
                    await Link.DrainAsync(TimeSpan.FromMilliseconds(50), ct).ConfigureAwait(false);
                }
            }
            progress?.Report(new EspProgress(label, offset + chunk.Length, data.Length));
        }
    }

    /// <summary>MEM_END: jump to <paramref name="entry"/> (0 = do not jump).</summary>
    public async Task MemEndAsync(uint entry, CancellationToken ct)
    {
        var words = Request.Words(entry == 0 ? 1u : 0u, entry);
        if (IsStub)
        {
            await Commands.ExecuteAsync(Opcode.MemEnd, words, cancellationToken: ct).ConfigureAwait(false);
            return;
        }
        // The ROM may never answer: the code it starts can take over the UART.
        try
        {
            await Commands.ExecuteAsync(Opcode.MemEnd, words, timeout: Timeouts.MemEndRom, cancellationToken: ct).ConfigureAwait(false);
        }
        catch (EspException ex) when (ex.Code is EspErrorCode.Timeout or EspErrorCode.RomError)
        {
        }
    }

    /// <summary>The stub file the options name, else the shipped stub for the chip (null: none ships for it).</summary>
    private async Task<StubImage?> ChooseStubAsync(CancellationToken ct)
    {
        if (Options.StubFile is not null) return StubImage.Load(Options.StubFile);
        if (await Chip.StubRefusalAsync(a => ReadRegAsync(a, ct), ct).ConfigureAwait(false) is { } reason)
        {
            Log($"Warning: {Chip.Name} with {reason}; continuing with the ROM loader (--no-stub hides this warning).");
            return null;
        }
        int? revision = null;
        if (Chip.Revision is { } layout && Chip.Key == "esp32p4")
            revision = await layout.ReadAsync(a => ReadRegAsync(a, ct), ct).ConfigureAwait(false);
        if (Stubs.FlasherStubs.FileNameFor(Chip, revision) is { } name)
        {
            Log($"Running the flasher stub ({name}, {Stubs.FlasherStubs.Origin}).");
            return Stubs.FlasherStubs.Load(name);
        }
        Log($"No flasher stub ships for {Chip.Name}; continuing with the ROM loader.");
        return null;
    }

    /// <summary>Uploads and starts a flasher stub, then waits for its OHAI greeting.</summary>
    public async Task UploadStubAsync(StubImage stub, CancellationToken ct)
    {
        Log("Uploading stub...");
        await WriteRamAsync(stub.TextStart, stub.Text, null, "stub", ct).ConfigureAwait(false);
        if (stub.Data.Length > 0) await WriteRamAsync(stub.DataStart, stub.Data, null, "stub", ct).ConfigureAwait(false);
        await Link.SendAsync(Request.Build(Opcode.MemEnd, Request.Words(0, stub.Entry)), ct).ConfigureAwait(false);
        // The ROM replies to MEM_END, then the stub greets; skip anything before "OHAI".
        var deadline = DateTime.UtcNow + Timeouts.Command;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            byte[] frame;
            try
            {
                frame = await Link.ReadFrameAsync(left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1), ct).ConfigureAwait(false);
            }
            catch (EspException ex) when (ex.Code == EspErrorCode.Timeout)
            {
                throw new EspException(EspErrorCode.StubStartFailed, "The flasher stub did not start (no OHAI greeting).", inner: ex);
            }
            if (frame.AsSpan().SequenceEqual(ProtocolConstants.StubGreeting)) break;
            if (Response.TryParse(frame, out var r) && r.Opcode == Opcode.MemEnd) continue;
            if (frame.Length == 0) continue;
            throw new EspException(EspErrorCode.StubStartFailed,
                $"The flasher stub did not start: expected OHAI, got {Convert.ToHexString(frame.AsSpan(0, Math.Min(16, frame.Length)))}.");
        }
        IsStub = true;
        Stub = stub;
        Commands.IsStub = true;
        Commands.StatusBytes = 2;
        _flashAttached = false;
        Log("Stub running.");
    }

    /// <summary>CHANGE_BAUDRATE: the chip answers at the old rate, then both sides switch.</summary>
    public async Task ChangeBaudAsync(int baud, CancellationToken ct)
    {
        if ((Chip.RomFeatures & RomFeatures.ChangeBaudrate) == 0 && !IsStub)
        {
            Log($"{Chip.Name} ROM cannot change the baud rate; staying at {Transport.BaudRate}.");
            return;
        }
        uint sent = (uint)baud;
        if (!IsStub && Chip == ChipDatabase.Esp32)
        {
            // The ESP32 ROM derives its UART clock from an 8 MHz oscillator that drifts; compensate as esptool does.
            uint cal = await ReadRegAsync(0x3FF5F06C, ct).ConfigureAwait(false);
            uint ck8m = await ReadRegAsync(0x3FF5A010, ct).ConfigureAwait(false) & 0xFF;
            ulong est = ((cal >> 7) & 0x1FFFFFF) * 15625UL * ck8m / 40;
            if (est != 0)
            {
                ulong reference = est > 33_000_000 ? 40_000_000UL : 26_000_000UL;
                sent = (uint)((ulong)baud * est / reference);
            }
        }
        int old = Transport.BaudRate;
        await Commands.ExecuteAsync(Opcode.ChangeBaudrate, Request.Words(sent, IsStub ? (uint)old : 0), cancellationToken: ct).ConfigureAwait(false);
        await SwitchHostBaudAsync(baud, ct).ConfigureAwait(false);
        if (await AnswersAsync(ct).ConfigureAwait(false))
        {
            Log($"Changed baud rate to {baud}.");
            return;
        }

        // Silent at the new rate. If the chip never switched, it still answers at the old one.
        await SwitchHostBaudAsync(old, ct).ConfigureAwait(false);
        if (await AnswersAsync(ct).ConfigureAwait(false))
        {
            Log($"Warning: the chip did not take {baud} Bd; continuing at {old} Bd.");
            return;
        }
        throw new EspException(EspErrorCode.BaudChangeFailed,
            $"After switching to {baud} Bd the chip stopped answering, at {baud} Bd and at {old} Bd.",
            $"Connect at a rate this link carries: -b {old} (EspBaud={old}) or another lower rate, then reset the chip.");
    }

    private async Task SwitchHostBaudAsync(int baud, CancellationToken ct)
    {
        await Transport.SetBaudRateAsync(baud, ct).ConfigureAwait(false);
        await Task.Delay(50, ct).ConfigureAwait(false);
        Link.DiscardInput();
    }

    /// <summary>Whether the loader answers a READ_REG (any well-formed reply, a refusal included) at the host's rate.</summary>
    private async Task<bool> AnswersAsync(CancellationToken ct)
    {
        var timeout = Max(TimeSpan.FromMilliseconds(300), LinkAllowance(64));
        for (int attempt = 0; attempt < 2; attempt++)
        {
            try
            {
                await Commands.ExecuteAsync(Opcode.ReadReg, Request.Words(ProtocolConstants.ChipDetectMagicRegister), timeout: timeout, cancellationToken: ct).ConfigureAwait(false);
                return true;
            }
            catch (EspCommandException)
            {
                return true;
            }
            catch (EspException ex) when (ex.Code is EspErrorCode.Timeout or EspErrorCode.ProtocolViolation)
            {
                await Link.DrainAsync(TimeSpan.FromMilliseconds(50), ct).ConfigureAwait(false);
            }
        }
        return false;
    }

    /// <summary>Makes the SPI flash usable: SPI_ATTACH (ROM), size detection and SPI_SET_PARAMS.</summary>
    public async Task EnsureFlashAttachedAsync(CancellationToken ct)
    {
        if (_flashAttached) return;
        if (!IsStub)
        {
            if (Chip.IsEsp8266)
                await Commands.ExecuteAsync(Opcode.FlashBegin, Request.Words(0, 0, (uint)ProtocolConstants.RomFlashBlockSize, 0), cancellationToken: ct).ConfigureAwait(false);
            else
                await Commands.ExecuteAsync(Opcode.SpiAttach, Request.Words(0, 0), cancellationToken: ct).ConfigureAwait(false);
        }
        _flashAttached = true;
        if (SecureDownloadMode) return;
        var id = await Operations.SpiFlash.RunCommandAsync(this, 0x9F, readBits: 24, ct: ct).ConfigureAwait(false);
        FlashId = id;
        FlashSize = Operations.FlashIdentity.SizeFromId(id);
        if (FlashSize is { } size && (IsStub || (Chip.RomFeatures & RomFeatures.SpiSetParams) != 0))
            await Commands.ExecuteAsync(Opcode.SpiSetParams, Request.Words(0, (uint)size, 0x10000, 0x1000, 0x100, 0xFFFF), cancellationToken: ct).ConfigureAwait(false);
    }

    /// <summary>Runs the <see cref="ConnectOptions.After"/> action once: reset the chip, or leave it in the loader.</summary>
    public async Task FinishAsync(CancellationToken ct = default)
    {
        if (_finished) return;
        _finished = true;
        switch (Options.After.Replace('_', '-').ToLowerInvariant())
        {
            case "hard-reset":
                if (Transport.SupportsLineControl)
                    await ResetStrategies.HardResetFor(Transport, Transport.UsbId is { Vid: 0x303A }).RunAsync(Transport, ct).ConfigureAwait(false);
                else
                    Log("The port cannot drive RTS: reset the chip by hand to run the new firmware.");
                break;
            case "soft-reset":
                if (IsStub && Chip.IsEsp8266)
                    await Link.SendAsync(Request.Build(Opcode.RunUserCode, ReadOnlySpan<byte>.Empty), ct).ConfigureAwait(false);
                else
                {
                    await Commands.ExecuteAsync(Opcode.FlashBegin, Request.Words(0, 0, (uint)FlashBlockSize, 0), cancellationToken: ct).ConfigureAwait(false);
                    await Link.SendAsync(Request.Build(Opcode.FlashEnd, Request.Words(1)), ct).ConfigureAwait(false);
                }
                break;
            case "no-reset" when IsStub:
                // Leave the stub so that the next session meets the ROM loader, as esptool does.
                await Commands.ExecuteAsync(Opcode.FlashBegin, Request.Words(0, 0, (uint)FlashBlockSize, 0), cancellationToken: ct).ConfigureAwait(false);
                await Link.SendAsync(Request.Build(Opcode.FlashEnd, Request.Words(0)), ct).ConfigureAwait(false);
                break;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_ownsTransport) await Transport.DisposeAsync().ConfigureAwait(false);
    }
}
