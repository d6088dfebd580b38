using Esp.Protocol.Chips;
using Esp.Protocol.Commands;
using Esp.Protocol.Errors;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;

namespace Esp.Protocol.Tests.Engine;

public class CommandClientTests
{
    private static EspSession Session(ScriptedTransport t, ChipDefinition chip, bool stub = false, EspTimeouts? timeouts = null) =>
        EspSession.Attach(t, chip, stub, new ConnectOptions { Port = "scripted", Timeouts = timeouts ?? EspTimeouts.Default }, flashAttached: true);

    [Fact]
    public async Task RomErrorBecomesTypedErrorWithSentence()
    {
        var t = new ScriptedTransport(req => [ScriptedTransport.Reply(req[1], 0, 1, 0x07, 0, 0)]);
        var s = Session(t, ChipDatabase.Esp32);
        var ex = await Assert.ThrowsAsync<EspCommandException>(() => s.WriteRegAsync(0x3FFB0000, 1));
        Assert.Equal(EspErrorCode.RomError, ex.Code);
        Assert.Equal(0x07, ex.Error);
        Assert.Contains("checksum", ex.Message);
        Assert.Equal("ESP3001", ex.CodeText);
    }

    [Fact]
    public async Task StubErrorUsesStubTable()
    {
        var t = new ScriptedTransport(req => [ScriptedTransport.Reply(req[1], 0, 0xC6, 0)]);
        var s = Session(t, ChipDatabase.Esp32, stub: true);
        var ex = await Assert.ThrowsAsync<EspCommandException>(() => s.WriteRegAsync(0x3FFB0000, 1));
        Assert.Equal(EspErrorCode.StubError, ex.Code);
        Assert.Contains("without a preceding BEGIN", ex.Message);
    }

    [Fact]
    public async Task ForeignOpcodeWithStatus05MeansUnsupported()
    {
        // The ESP32 ROM answers an unknown command under the previous command's opcode, eight times.
        var t = new ScriptedTransport(req => Enumerable.Repeat(ScriptedTransport.Reply(0x08, 0x20120707, 1, 5, 0, 0), 8));
        var s = Session(t, ChipDatabase.Esp32);
        var ex = await Assert.ThrowsAsync<EspCommandException>(() =>
            s.ExecuteAsync(LoaderCommands.GetSecurityInfo()));
        Assert.Equal(EspErrorCode.UnsupportedCommand, ex.Code);
    }

    [Fact]
    public async Task SilentChipTimesOutWithClearError()
    {
        var t = new ScriptedTransport(_ => []);
        var s = Session(t, ChipDatabase.Esp32, timeouts: new EspTimeouts { Command = TimeSpan.FromMilliseconds(100) });
        var ex = await Assert.ThrowsAsync<EspException>(() => s.ReadRegAsync(0x40001000));
        Assert.Equal(EspErrorCode.Timeout, ex.Code);
        Assert.Contains("No reply", ex.Message);
    }

    /// <summary>
    /// A chip that answers in order, but whose answer to request <paramref name="slowRequest"/> comes only once the
    /// host has sent its next request: late for certain, whatever the machine's load, and before the next answer.
    /// </summary>
    private static ScriptedTransport InOrderChip(int slowRequest, Func<byte[], IEnumerable<byte[]>> answer)
    {
        List<byte[]>? held = null;
        int n = 0;
        return new ScriptedTransport(req =>
        {
            var replies = answer(req).ToList();
            if (++n == slowRequest)
            {
                held = replies;
                return [];
            }
            if (held is not null) replies.InsertRange(0, held);
            held = null;
            return replies;
        });
    }

    private static IEnumerable<byte[]> Registers(byte[] req) => req[1] switch
    {
        0x0A => [ScriptedTransport.Reply(0x0A, BitConverter.ToUInt32(req, 8) ^ 0x5A5A5A5A, 0, 0, 0, 0)], // READ_REG: a value per address
        0x08 => Enumerable.Repeat(ScriptedTransport.Reply(0x08, 0x20120707, 0, 0, 0, 0), 8),
        _ => [ScriptedTransport.Reply(req[1], 0, 0, 0, 0, 0)],
    };

    [Fact]
    public async Task ALateReplyIsNeverTakenForTheNextCommand()
    {
        // The first READ_REG's reply comes after its timeout. The read is repeated behind a barrier, and the next
        // READ_REG gets its own register's value, not the late one (a READ_REG reply names no address).
        // Wide margins: the late reply comes 1.5 s after its request, 0.5 s after the timeout, and the barrier waits up
        // to 2 s for what follows it (a busy machine must not turn this into another timeout).
        var t = InOrderChip(1, Registers);
        var s = Session(t, ChipDatabase.Esp32, timeouts: new EspTimeouts { Command = TimeSpan.FromMilliseconds(300) });
        Assert.Equal(0x1000u ^ 0x5A5A5A5A, await s.ReadRegAsync(0x1000));
        Assert.Equal(0x2000u ^ 0x5A5A5A5A, await s.ReadRegAsync(0x2000));
        Assert.Equal(0x3000u ^ 0x5A5A5A5A, await s.ReadRegAsync(0x3000));
        Assert.Equal([0x0A, 0x08, 0x0A, 0x0A, 0x0A], t.Requests.Select(r => r[1]));
    }

    [Fact]
    public async Task AWriteThatTimedOutIsNotRepeatedAndItsLateReplyIsDropped()
    {
        var t = InOrderChip(1, Registers);
        var s = Session(t, ChipDatabase.Esp32, timeouts: new EspTimeouts { Command = TimeSpan.FromMilliseconds(300) });
        var ex = await Assert.ThrowsAsync<EspException>(() => s.WriteRegAsync(0x3FF00000, 1));
        Assert.Equal(EspErrorCode.Timeout, ex.Code);
        Assert.Equal(0x2000u ^ 0x5A5A5A5A, await s.ReadRegAsync(0x2000));
        Assert.Equal([0x09, 0x08, 0x0A], t.Requests.Select(r => r[1])); // the write went once; a barrier went first
    }

    [Fact]
    public async Task RepliesToOtherCommandsAndNoiseAreSkipped()
    {
        var t = new ScriptedTransport(req => [[0x01], ScriptedTransport.Reply(0x08, 0, 0, 0), ScriptedTransport.Reply(req[1], 0xDEADBEEF, 0, 0, 0, 0)]);
        var s = Session(t, ChipDatabase.Esp32);
        Assert.Equal(0xDEADBEEFu, await s.ReadRegAsync(0x40001000));
    }

    [Fact]
    public async Task CancellationStopsAWait()
    {
        var t = new ScriptedTransport(_ => []);
        var s = Session(t, ChipDatabase.Esp32);
        using var cts = new CancellationTokenSource(50);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => s.ReadRegAsync(0x40001000, cts.Token));
    }

    [Fact]
    public async Task WriteVerifyMismatchIsNeverReportedAsSuccess()
    {
        // A chip that accepts everything but reports a different MD5.
        var t = new ScriptedTransport(req => req[1] == (byte)Opcode.SpiFlashMd5
            ? [ScriptedTransport.Reply(req[1], 0, [.. new byte[16], 0, 0])]
            : [ScriptedTransport.Reply(req[1], 0, 0, 0)]);
        var s = Session(t, ChipDatabase.Esp32, stub: true);
        var ex = await Assert.ThrowsAsync<EspException>(() => FlashWriter.WriteAsync(s, 0x10000, new byte[5000]));
        Assert.Equal(EspErrorCode.WriteVerifyFailed, ex.Code);
        Assert.Contains("does not match", ex.Message);
    }

    [Fact]
    public async Task Esp8266RomRefusesUnverifiableWrite()
    {
        var t = new ScriptedTransport(req => [ScriptedTransport.Reply(req[1], 0, 0, 0)]);
        var s = Session(t, ChipDatabase.Esp8266);
        var ex = await Assert.ThrowsAsync<EspException>(() => FlashWriter.WriteAsync(s, 0, new byte[16]));
        Assert.Equal(EspErrorCode.UnsupportedCommand, ex.Code);
        Assert.DoesNotContain(t.Requests, r => r[1] == (byte)Opcode.FlashBegin);
    }

    [Fact]
    public async Task FlashBlockIsRetriedAfterChecksumError()
    {
        int dataCalls = 0;
        var t = new ScriptedTransport(req =>
        {
            if (req[1] == (byte)Opcode.FlashData && dataCalls++ == 0) return [ScriptedTransport.Reply(req[1], 0, 0xC1, 0)];
            if (req[1] == (byte)Opcode.SpiFlashMd5)
            {
                var data = new byte[4096];
                data.AsSpan().Fill(0x5A);
                return [ScriptedTransport.Reply(req[1], 0, [.. System.Security.Cryptography.MD5.HashData(data), 0, 0])];
            }
            return [ScriptedTransport.Reply(req[1], 0, 0, 0)];
        });
        var s = Session(t, ChipDatabase.Esp32, stub: true);
        var payload = new byte[4096];
        payload.AsSpan().Fill(0x5A);
        var result = await FlashWriter.WriteAsync(s, 0x1000, payload, new FlashWriteOptions { Compress = false });
        Assert.True(result.Verified);
        Assert.Equal(2, t.Requests.Count(r => r[1] == (byte)Opcode.FlashData));
    }
}
