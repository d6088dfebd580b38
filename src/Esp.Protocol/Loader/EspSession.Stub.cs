using Esp.Protocol.Commands;
using Esp.Protocol.Errors;
using Esp.Protocol.Stubs;

namespace Esp.Protocol.Loader;

/// <summary>RAM downloads and the flasher stub: which one, its upload and start.</summary>
public sealed partial class EspSession
{
    /// <summary>Loads bytes into RAM with MEM_BEGIN / MEM_DATA (no MEM_END).</summary>
    public async Task WriteRamAsync(uint address, ReadOnlyMemory<byte> data, IProgress<EspProgress>? progress = null,
        string label = "load_ram", CancellationToken ct = default)
    {
        int block = Loader.RamBlockSize;
        uint blocks = (uint)((data.Length + block - 1) / block);
        await ExecuteAsync(LoaderCommands.MemBegin((uint)data.Length, blocks, (uint)block, address), ct).ConfigureAwait(false);
        for (uint seq = 0; seq < blocks; seq++)
        {
            int offset = (int)seq * block;
            var chunk = data.Slice(offset, Math.Min(block, data.Length - offset));
            var command = LoaderCommands.Data(Opcode.MemData, chunk.Span, seq, ReplyTimeout.Command);
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    await ExecuteAsync(command, ct).ConfigureAwait(false);
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
    public Task MemEndAsync(uint entry, CancellationToken ct) => Loader.MemEndAsync(this, entry, ct);

    /// <summary>The stub file the options name, else the shipped stub for the chip (null: none, or the chip refuses one).</summary>
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
        if (FlasherStubs.FileNameFor(Chip, revision) is { } name)
        {
            Log($"Running the flasher stub ({name}, {FlasherStubs.Origin}).");
            return FlasherStubs.Load(name);
        }
        Log($"No flasher stub ships for {Chip.Name}; continuing with the ROM loader.");
        return null;
    }

    /// <summary>Uploads and starts a flasher stub, then waits for its OHAI greeting.</summary>
    public async Task UploadStubAsync(StubImage stub, CancellationToken ct)
    {
        Log("Uploading stub...");
        try
        {
            await WriteRamAsync(stub.TextStart, stub.Text, null, "stub", ct).ConfigureAwait(false);
            if (stub.Data.Length > 0) await WriteRamAsync(stub.DataStart, stub.Data, null, "stub", ct).ConfigureAwait(false);
        }
        catch (EspCommandException ex) when (ex.Code == EspErrorCode.UnsupportedCommand)
        {
            // The stub is only uploaded outside Secure Download Mode, where every ROM takes MEM_BEGIN: a refusal means
            // the packet was damaged on the way (the ROM answers an invalid message with 01 05 too).
            throw new EspException(EspErrorCode.StubStartFailed,
                $"The ROM refused {(Opcode)ex.Opcode} while the flasher stub was uploaded (status 0x{ex.Status:X2}{ex.Error:X2}): the packet was damaged on the way.",
                "The link corrupts data; check the cable and lower the baud rate, or run again.", ex);
        }
        await SendAsync(LoaderCommands.MemEnd(stub.Entry, ReplyTimeout.Command), ct).ConfigureAwait(false);
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
        Use(new StubLoader(Chip, UsesUsbOtg));
        Stub = stub;
        _flashAttached = false;
        Log("Stub running.");
    }
}
