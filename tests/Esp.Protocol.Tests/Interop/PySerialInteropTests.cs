using System.Diagnostics;
using Esp.Simulator;
using Esp.TestSupport.Interop;

namespace Esp.Protocol.Tests.Interop;

/// <summary>
/// pyserial's <c>rfc2217://</c> client (esptool's) against the virtual chip's <see cref="Rfc2217Server"/>: the
/// server must answer what pyserial waits for, drive the reset lines and follow baud changes.
/// </summary>
public class PySerialInteropTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);

    [InteropFact(InteropTool.PySerial)]
    public async Task PySerialResetsSyncsAndChangesBaudThroughTheRfc2217Server()
    {
        // The chip runs its application: only the DTR/RTS pulses, carried by the server, can bring the ROM loader up.
        // pyserial waits for each acknowledgement by polling every 50 ms, so its line changes come tens of ms apart,
        // later than a board's EN capacitor allows between releasing EN and pulling the strap pin low. The chip's
        // capacitor is made slow (1.5 s) and the script holds the strap for 4 s (esptool's reset delay): the strap is
        // sampled while it is held, however loaded the machine.
        await using var chip = new VirtualChip(new VirtualChipOptions
        {
            Chip = "esp32", StartInDownloadMode = false, ResetCapacitorDelay = TimeSpan.FromSeconds(1.5),
        });
        await using var server = new Rfc2217Server(chip);

        var (exit, output) = await RunScriptAsync($"rfc2217://127.0.0.1:{server.Port}", "460800", "4");

        Assert.True(exit == 0, output);
        Assert.Contains("ok open 115200", output);
        Assert.Contains("ok lines", output);
        Assert.Matches(@"ok sync [1-9][0-9]* replies", output);
        Assert.Contains("ok baud 460800", output);
        Assert.Contains("ok read_reg 0x40001000 = 0x00f01d83", output); // the ESP32's chip-detect word, at the new rate
        Assert.Equal(ChipMode.RomLoader, chip.Mode);
        Assert.Equal(460800, chip.ChipBaud);
    }

    private static async Task<(int Exit, string Output)> RunScriptAsync(params string[] args)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "Interop", "pyserial_rfc2217_client.py");
        var psi = new ProcessStartInfo(InteropTools.Require(InteropTool.PySerial))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("-u");
        psi.ArgumentList.Add(script);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(Limit);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
            return (-1, $"the script did not finish within {Limit.TotalSeconds} s\n{await stdout}{await stderr}");
        }
        return (p.ExitCode, await stdout + await stderr);
    }
}
