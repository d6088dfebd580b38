using Esp.Protocol.Chips;
using Esp.Protocol.Commands;
using Esp.Protocol.Errors;
using Esp.Protocol.Loader.Reset;
using Esp.Protocol.Transport;

namespace Esp.Protocol.Loader;

/// <summary>
/// A connected chip: the ROM loader or, after a stub upload, the flasher stub (<see cref="Loader"/>). Holds what was
/// learnt while connecting (chip, security state, flash) and runs commands. Operations build on it.
/// </summary>
public sealed partial class EspSession : IAsyncDisposable
{
    private readonly bool _ownsTransport;
    private bool _flashAttached;
    private bool _finished;
    private bool _loaderLeft;

    private EspSession(ConnectOptions options, IEspTransport transport, bool ownsTransport)
    {
        Options = options;
        Transport = transport;
        _ownsTransport = ownsTransport;
        Link = new SlipLink(transport) { Trace = options.Trace };
        Loader = new RomLoader(Chip);
        Commands = new CommandClient(Link, options.Timeouts, Loader);
    }

    public ConnectOptions Options { get; }
    public IEspTransport Transport { get; }
    internal SlipLink Link { get; }
    internal CommandClient Commands { get; }
    public EspTimeouts Timeouts => Options.Timeouts;

    public ChipDefinition Chip { get; private set; } = ChipDatabase.Esp32;
    public SecurityInfo? Security { get; private set; }

    /// <summary>The loader that answers: the chip's ROM loader, or the flasher stub once one runs.</summary>
    public LoaderProtocol Loader { get; private set; }

    /// <summary>The stub that was uploaded in this session (null when it was already running or not used).</summary>
    public StubImage? Stub { get; private set; }
    /// <summary>Flash size in bytes once known (from RDID), else null.</summary>
    public int? FlashSize { get; private set; }
    public uint? FlashId { get; private set; }

    public bool SecureDownloadMode => Security?.SecureDownloadMode ?? false;

    /// <summary>Requests the loader takes in flight (<see cref="ConnectOptions.Windows"/> overrides).</summary>
    public LoaderWindows Windows => Options.Windows ?? Loader.Windows;

    /// <summary>True when the link is the chip's own USB-OTG port (Espressif's USB id with the chip id as product id).</summary>
    public bool UsesUsbOtg => Chip.HasUsbOtg && Transport.UsbId is { Vid: 0x303A } id && id.Pid == Chip.ImageChipId;

    /// <summary>Bytes sent to the chip so far (SLIP-encoded, as on the wire).</summary>
    public long WireBytesSent => Link.BytesWritten;

    /// <summary>Bytes received from the chip so far.</summary>
    public long WireBytesReceived => Link.BytesRead;

    private void Log(string message) => Options.Log?.Invoke(message);

    private void Use(LoaderProtocol loader)
    {
        Loader = loader;
        Commands.Loader = loader;
    }

    /// <summary>
    /// A session on a link whose chip is already known and synced (tests, replay, and hosts that connected
    /// by other means). No bytes are exchanged here.
    /// </summary>
    public static EspSession Attach(IEspTransport transport, ChipDefinition chip, bool stub, ConnectOptions? options = null, bool flashAttached = false)
    {
        var session = new EspSession(options ?? new ConnectOptions { Port = transport.Name }, transport, ownsTransport: false)
        {
            Chip = chip,
            _flashAttached = flashAttached,
        };
        session.Use(stub ? new StubLoader(chip, session.UsesUsbOtg) : new RomLoader(chip, session.UsesUsbOtg));
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
        var before = Options.BeforeMode;
        ChipDefinition? requested = Options.Chip.Equals("auto", StringComparison.OrdinalIgnoreCase) ? null : ChipDatabase.Get(Options.Chip);

        // Without a sync the caller says what runs: a stub left by an earlier session, unless --no-stub.
        bool stubAnswers = before == "no-reset-no-sync" ? !Options.NoStub : false;
        if (before != "no-reset-no-sync")
        {
            Log($"Connecting to {Transport.Name}...");
            stubAnswers = await ResetAndSyncAsync(before, ct).ConfigureAwait(false);
        }

        await DetectChipAsync(requested, stubAnswers, ct).ConfigureAwait(false);
        Use(stubAnswers ? new StubLoader(Chip, UsesUsbOtg) : new RomLoader(Chip, UsesUsbOtg));
        Log($"Chip is {Chip.Name}{(stubAnswers ? " (stub already running)" : "")}");

        if (!stubAnswers && !Options.NoStub)
        {
            if (SecureDownloadMode)
                Log("Secure Download Mode is on: the stub cannot be uploaded; continuing with the ROM loader.");
            else if (await ChooseStubAsync(ct).ConfigureAwait(false) is { } stub)
                await UploadStubAsync(stub, ct).ConfigureAwait(false);
        }

        if (Options.Baud != Transport.BaudRate && Options.Baud > 0)
            await ChangeBaudAsync(Options.Baud, ct).ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- commands

    /// <summary>Sends <paramref name="command"/> and waits for its reply; a failed reply throws its coded error.</summary>
    public Task<CommandReply> ExecuteAsync(Command command, CancellationToken ct = default) => Commands.ExecuteAsync(command, ct);

    /// <summary>Sends <paramref name="command"/> without waiting for a reply (commands the chip does not answer).</summary>
    public Task SendAsync(Command command, CancellationToken ct = default) => Link.SendAsync(command.ToPacket(), ct);

    public async Task<uint> ReadRegAsync(uint address, CancellationToken ct = default) =>
        (await ExecuteAsync(LoaderCommands.ReadReg(address), ct).ConfigureAwait(false)).Value;

    public Task WriteRegAsync(uint address, uint value, uint mask = 0xFFFFFFFF, uint delayUs = 0, CancellationToken ct = default) =>
        ExecuteAsync(LoaderCommands.WriteReg(address, value, mask, delayUs), ct);

    /// <summary>Makes the SPI flash usable: attach (ROM), size detection and SPI_SET_PARAMS.</summary>
    public async Task EnsureFlashAttachedAsync(CancellationToken ct)
    {
        if (_flashAttached) return;
        await Loader.AttachFlashAsync(this, ct).ConfigureAwait(false);
        _flashAttached = true;
        if (SecureDownloadMode) return;
        var id = await Operations.SpiFlash.RunCommandAsync(this, 0x9F, readBits: 24, ct: ct).ConfigureAwait(false);
        FlashId = id;
        FlashSize = Operations.FlashIdentity.SizeFromId(id);
        if (FlashSize is { } size && Loader.SetsFlashParameters)
            await ExecuteAsync(LoaderCommands.SpiSetParams((uint)size), ct).ConfigureAwait(false);
    }

    /// <summary>Runs the <see cref="ConnectOptions.After"/> action once: reset the chip, or leave it in the loader.</summary>
    public async Task FinishAsync(CancellationToken ct = default)
    {
        if (_finished) return;
        _finished = true;
        var after = Options.AfterMode;
        if (after != "hard-reset" && _loaderLeft)
        {
            Log("The loader has left for the application; nothing more to do.");
            return;
        }
        if (after == "hard-reset")
        {
            try
            {
                if (Transport.SupportsLineControl)
                {
                    await ResetStrategies.HardResetFor(Transport, Transport.UsbId is { Vid: 0x303A }).RunAsync(Transport, ct).ConfigureAwait(false);
                    return;
                }
            }
            catch (EspException ex) when (ex.Code == EspErrorCode.LineControlUnsupported)
            {
                // Only found out now (an RFC 2217 server that leaves SET-CONTROL unanswered): the work is done and
                // verified, so this is no failure, just as on a port known not to drive the lines.
            }
            Log("The port cannot drive RTS: reset the chip by hand to run the new firmware.");
            return;
        }
        await Loader.LeaveAsync(this, after, ct).ConfigureAwait(false);
    }

    /// <summary>The ROM loader has jumped into the application: no loader command reaches it any more.</summary>
    internal void MarkLoaderLeft() => _loaderLeft = true;

    public async ValueTask DisposeAsync()
    {
        if (_ownsTransport) await Transport.DisposeAsync().ConfigureAwait(false);
    }
}
