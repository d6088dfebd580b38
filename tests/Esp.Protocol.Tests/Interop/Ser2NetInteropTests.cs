using System.Collections.Concurrent;
using Esp.Protocol.Errors;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;
using Esp.Simulator;
using Esp.TestSupport.Interop;

namespace Esp.Protocol.Tests.Interop;

/// <summary>
/// The engine's RFC 2217 client through Debian's ser2net (4.x), which serves the virtual chip's pseudo-terminal as
/// remote labs serve boards: <c>rfc2217://127.0.0.1:PORT</c> → ser2net → tty → chip.
/// </summary>
public class Ser2NetInteropTests
{
    private const string Mac = "58:cf:79:5e:12:0c";
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    private static VirtualChipOptions Chip() => new() { Chip = "esp32c3", Mac = Mac };

    [InteropTheory(InteropTool.Ser2Net)]
    [InlineData(true)]
    [InlineData(false)]
    public Task ReadsMacAndFlashIdChangesBaudAndKeepsTalking(bool stub) => Bounded(async ct =>
    {
        await using var rig = await Ser2NetChip.StartAsync(Chip(), ct);
        await using var session = await EspSession.ConnectAsync(rig.Options(baud: 460800, stub: stub), ct);

        // ser2net acknowledged SET-BAUDRATE and the chip followed CHANGE_BAUDRATE.
        Assert.Equal(460800, session.Transport.BaudRate);
        Assert.Equal(460800, rig.Chip.ChipBaud);

        var info = await ChipInfo.ReadAsync(session, includeFlash: true, ct);
        Assert.Equal("esp32c3", info.Chip);
        Assert.Equal(Mac, info.Mac);
        Assert.Equal(0xC8, info.Flash!.Manufacturer);
        Assert.Equal(4 * 1024 * 1024, info.Flash.Size);

        // Keep talking at the new rate: an MD5 on the chip and a read back.
        rig.Chip.Flash.Load(0x8000, Bytes(0x1000, 3));
        Assert.Equal(FlashMd5.Of(Bytes(0x1000, 3)), await FlashMd5.ComputeAsync(session, 0x8000, 0x1000, ct));
        Assert.Equal(Bytes(0x1000, 3), await FlashReader.ReadAsync(session, 0x8000, 0x1000, null, ct));
    });

    [InteropFact(InteropTool.Ser2Net)]
    public Task ResetIsRefusedOnAPtyAndNoResetWorks() => Bounded(async ct =>
    {
        await using var rig = await Ser2NetChip.StartAsync(Chip(), ct);

        // ser2net 4.3 answers every COM-PORT-OPTION request but SET-CONTROL DTR/RTS when its device is a pty.
        var ex = await Assert.ThrowsAsync<EspException>(() => EspSession.ConnectAsync(rig.Options(before: "default-reset"), ct));
        Assert.Equal(EspErrorCode.LineControlUnsupported, ex.Code);
        Assert.Contains("did not acknowledge SET-CONTROL (DTR/RTS)", ex.Message);
        Assert.Contains("--before no-reset", ex.Help);

        // The same server without a reset: the work runs, and the reset after it only says to reset by hand.
        var log = new ConcurrentQueue<string>();
        await using var session = await EspSession.ConnectAsync(rig.Options(after: "hard-reset", log: log.Enqueue), ct);
        Assert.Equal(Mac, await ChipInfo.ReadMacAsync(session, ct));
        await session.FinishAsync(ct);
        Assert.Contains(log, l => l.Contains("reset the chip by hand", StringComparison.Ordinal));
        Assert.Equal(ChipMode.Stub, rig.Chip.Mode); // no line reached the chip
    });

    [InteropFact(InteropTool.Ser2Net)]
    public Task DeploysA64KiBImageVerifiedByMd5() => Bounded(async ct =>
    {
        await using var rig = await Ser2NetChip.StartAsync(Chip(), ct);
        await using var session = await EspSession.ConnectAsync(rig.Options(baud: 460800), ct);
        var image = TelnetAwkwardImage(0x10000);

        var result = await Deployer.DeployAsync(session, [new DeployImage("app", 0x20000, image)], ct: ct);
        var written = Assert.Single(result.Images);
        Assert.True(written.Verified);
        Assert.Equal(FlashMd5.Of(image), written.Md5);
        Assert.Equal(image.Length, written.BytesWritten);
        Assert.Equal(image, rig.Chip.Flash.Read(0x20000, image.Length));

        var again = await Deployer.DeployAsync(session, [new DeployImage("app", 0x20000, image)], ct: ct);
        Assert.Equal(DeployAction.Skip, Assert.Single(again.Images).Action);
    });

    [InteropFact(InteropTool.Ser2Net)]
    public Task KillingSer2NetMidWriteReportsWhatWasNotWritten() => Bounded(async ct =>
    {
        await using var rig = await Ser2NetChip.StartAsync(Chip(), ct);
        await using var session = await EspSession.ConnectAsync(rig.Options(), ct);
        var image = Bytes(0x10000, 7);
        const uint address = 0x30000;

        // Killed while the writer holds the first acknowledgement: the next block has nowhere to go.
        var progress = new InlineProgress(p =>
        {
            if (p.Operation == "write" && p.Done >= 0x4000 && rig.Server.IsRunning) rig.Server.Kill();
        });
        var ex = await Assert.ThrowsAsync<EspWriteIncompleteException>(() =>
            FlashWriter.WriteAsync(session, address, image, new FlashWriteOptions { Compress = false }, progress, ct));

        Assert.False(rig.Server.IsRunning);
        Assert.Equal(EspErrorCode.Disconnected, ex.Code);
        Assert.Empty(ex.Verified);
        var unverified = Assert.Single(ex.Unverified);
        var notWritten = Assert.Single(ex.NotWritten);
        Assert.Equal(address, unverified.Address);
        Assert.Equal(unverified.End, notWritten.Address);
        Assert.Equal(address + (ulong)image.Length, notWritten.End);
        Assert.Contains("not written", ex.Message);

        // What the chip acknowledged is in its flash once it has done the work (the stub replies before writing).
        Assert.True(rig.Chip.WaitUntilIdle(TimeSpan.FromSeconds(30)));
        Assert.Equal(image.AsSpan(0, 0x4000).ToArray(), rig.Chip.Flash.Read(address, 0x4000));
    });

    [InteropFact(InteropTool.Ser2Net)]
    public Task ADeployResumesWhenSer2NetComesBack() => Bounded(async ct =>
    {
        await using var rig = await Ser2NetChip.StartAsync(Chip(), ct);
        var image = Bytes(0x10000, 11);
        var log = new ConcurrentQueue<string>();
        int connects = 0, kills = 0;

        async Task<EspSession> ConnectAsync(CancellationToken c)
        {
            // The lab's server is back by the time the deploy reconnects.
            if (Interlocked.Increment(ref connects) > 1 && !rig.Server.IsRunning) await rig.Server.StartAgainAsync(c);
            return await EspSession.ConnectAsync(rig.Options(baud: 460800, after: "hard-reset", log: log.Enqueue), c);
        }
        var progress = new InlineProgress(p =>
        {
            if (p.Operation == "write" && p.Done >= 0x4000 && Interlocked.CompareExchange(ref kills, 1, 0) == 0) rig.Server.Kill();
        });

        var result = await ResumingDeployer.DeployAsync(ConnectAsync, [new DeployImage("app", 0x40000, image)],
            new DeployOptions { Compress = false }, new ResumeOptions { Attempts = 3, Log = log.Enqueue }, progress, ct);

        Assert.Equal(1, kills);
        Assert.Equal(1, result.Resumes);
        var written = Assert.Single(result.Images);
        Assert.True(written.Verified);
        Assert.True(written.BytesWritten < image.Length, $"rewrote {written.BytesWritten} bytes");
        Assert.Equal(image, rig.Chip.Flash.Read(0x40000, image.Length));
        Assert.Contains(log, l => l.Contains("reset the chip by hand", StringComparison.Ordinal));
    });

    [InteropFact(InteropTool.Ser2Net)]
    public Task ADeployWhoseServerStaysGoneReportsWhatWasNotWritten() => Bounded(async ct =>
    {
        await using var rig = await Ser2NetChip.StartAsync(Chip(), ct);
        var image = Bytes(0x10000, 13);
        int connects = 0;
        var progress = new InlineProgress(p =>
        {
            if (p.Operation == "write" && p.Done >= 0x4000 && rig.Server.IsRunning) rig.Server.Kill();
        });

        var ex = await Assert.ThrowsAsync<EspWriteIncompleteException>(() => ResumingDeployer.DeployAsync(
            c => { Interlocked.Increment(ref connects); return EspSession.ConnectAsync(rig.Options(), c); },
            [new DeployImage("app", 0x50000, image)], new DeployOptions { Compress = false }, new ResumeOptions { Attempts = 3 }, progress, ct));

        // The reconnection finds nothing listening; the error names that and keeps the first session's range report.
        Assert.Equal(2, connects);
        Assert.Equal(EspErrorCode.PortNotFound, ex.Code);
        Assert.Empty(ex.Verified);
        Assert.Equal(0x50000u, Assert.Single(ex.Unverified).Address);
        Assert.Equal(0x60000ul, Assert.Single(ex.NotWritten).End);
        Assert.Contains("not written", ex.Message);
    });

    /// <summary>Runs a test body under a deadline: the token is cancelled at the limit and the wait gives up soon after.</summary>
    private static async Task Bounded(Func<CancellationToken, Task> body)
    {
        using var cts = new CancellationTokenSource(Limit);
        await body(cts.Token).WaitAsync(Limit + TimeSpan.FromSeconds(30));
    }

    private static byte[] Bytes(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    /// <summary>Random bytes with runs of what Telnet and SLIP treat specially: IAC (0xFF), CR NUL, CR LF, C0/DB.</summary>
    private static byte[] TelnetAwkwardImage(int n)
    {
        var image = Bytes(n, 5);
        byte[][] awkward = [[0xFF, 0xFF, 0xFF], [0x0D, 0x00], [0x0D, 0x0A], [0xFF, 0xFA, 0x2C, 0x05, 0x08, 0xFF, 0xF0], [0xC0, 0xDB, 0xDC, 0xDD]];
        for (int at = 0, i = 0; at + 8 < n; at += 97, i++) awkward[i % awkward.Length].CopyTo(image, at);
        image.AsSpan(n / 2, 0x800).Fill(0xFF);
        return image;
    }
}
