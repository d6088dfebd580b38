using Esp.Protocol.Errors;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;
using Esp.Simulator;

namespace Esp.Protocol.Tests.EndToEnd;

/// <summary>The engine's real transports (socket://, rfc2217://, a serial device) against the virtual chip's hosts.</summary>
public class HostTransportTests
{
    private static byte[] Data(int n)
    {
        var b = new byte[n];
        new Random(n).NextBytes(b);
        return b;
    }

    [Fact]
    public async Task SocketTransportWritesThroughTheTcpHost()
    {
        await using var chip = new VirtualChip(new VirtualChipOptions { Chip = "esp32c3" });
        await using var server = new TcpSerialServer(chip);
        await using var session = await EspSession.ConnectAsync(new ConnectOptions
        {
            Port = $"socket://127.0.0.1:{server.Port}", Chip = "auto", Baud = 115200,
        });
        Assert.Equal("esp32c3", session.Chip.Key);
        var data = Data(20_000);
        Assert.True((await FlashWriter.WriteAsync(session, 0x10000, data)).Verified);
        Assert.Equal(data, chip.Flash.Read(0x10000, data.Length));
    }

    [Fact]
    public async Task Rfc2217ResetPutsARunningChipIntoTheBootloader()
    {
        // The chip is running its application; only DTR/RTS through RFC 2217 can bring it to the ROM loader.
        await using var chip = new VirtualChip(new VirtualChipOptions { Chip = "esp32", StartInDownloadMode = false });
        await using var server = new Rfc2217Server(chip);
        Assert.NotEqual(ChipMode.RomLoader, chip.Mode);
        await using var session = await EspSession.ConnectAsync(new ConnectOptions
        {
            Port = $"rfc2217://127.0.0.1:{server.Port}", Chip = "esp32", Baud = 115200, Before = "default-reset",
        });
        // Reached the ROM loader, which then started the shipped flasher stub (the default).
        Assert.Equal(ChipMode.Stub, chip.Mode);
        var info = await ChipInfo.ReadAsync(session);
        Assert.Equal("esp32", info.Chip);
    }

    [Fact]
    public async Task Rfc2217WithoutResetFindsNoBootloader()
    {
        await using var chip = new VirtualChip(new VirtualChipOptions { Chip = "esp32", StartInDownloadMode = false });
        await using var server = new Rfc2217Server(chip);
        var ex = await Assert.ThrowsAsync<EspException>(() => EspSession.ConnectAsync(new ConnectOptions
        {
            Port = $"rfc2217://127.0.0.1:{server.Port}", Chip = "esp32", Baud = 115200, Before = "no-reset", ConnectAttempts = 1,
        }));
        Assert.True(ex.Code is EspErrorCode.NoSyncReply or EspErrorCode.WrongBootMode, ex.ToString());
    }

    [Fact]
    public async Task SerialTransportOverThePseudoTerminalHost()
    {
        if (!OperatingSystem.IsLinux()) return;
        await using var chip = new VirtualChip(new VirtualChipOptions { Chip = "esp32s3" });
        var link = Path.Combine(Path.GetTempPath(), $"esp-build-test-{Environment.ProcessId}-{Guid.NewGuid():N}.tty");
        using var pty = new PtyHost(chip, link);
        // A pty cannot drive DTR/RTS: default-reset must fail clearly, no-reset must work.
        var ex = await Assert.ThrowsAsync<EspException>(() => EspSession.ConnectAsync(new ConnectOptions
        {
            Port = link, Chip = "esp32s3", Baud = 115200, Before = "default-reset",
        }));
        Assert.Equal(EspErrorCode.LineControlUnsupported, ex.Code);
        Assert.Contains("no-reset", ex.Help);

        await using var session = await EspSession.ConnectAsync(new ConnectOptions
        {
            Port = link, Chip = "esp32s3", Baud = 115200, Before = "no-reset",
        });
        var data = Data(9000);
        await FlashWriter.WriteAsync(session, 0x20000, data);
        Assert.Equal(data, await FlashReader.ReadAsync(session, 0x20000, data.Length));
    }
}
