namespace Esp.Cli.Tests.Device;

/// <summary>Commands whose effects live in RAM or registers: checked on a virtual chip the test holds.</summary>
public class KeptChipTests : IDisposable
{
    private readonly CliRunner _cli = new();
    public void Dispose() => _cli.Dispose();

    private static void Ok(CliRun r) => Assert.True(r.ExitCode == 0, r.ToString());

    [Fact]
    public async Task WriteMemThenReadMem()
    {
        await using var kept = new KeptChip();
        var w = await _cli.RunAsync("--port", kept.Port, "write_mem", "0x3ffb0000", "0x12345678");
        Ok(w);
        Assert.Equal(0x12345678u, kept.Word(0x3FFB0000));

        Ok(await _cli.RunAsync("--port", kept.Port, "write_mem", "0x3ffb0000", "0xabcd0000", "0xffff0000"));
        Assert.Equal(0xABCD5678u, kept.Word(0x3FFB0000));

        var r = await _cli.RunAsync("--port", kept.Port, "read_mem", "0x3ffb0000");
        Ok(r);
        Assert.Contains("0x3ffb0000 = 0xabcd5678", r.Stdout);
        var j = (await _cli.RunAsync("--port", kept.Port, "read-mem", "0x3ffb0000", "--json")).Json;
        Assert.Equal(0xABCD5678u, j.GetProperty("value").GetUInt32());
    }

    [Fact]
    public async Task DumpMemWritesTheBytes()
    {
        await using var kept = new KeptChip();
        for (uint i = 0; i < 16; i++) kept.Chip.WriteRegister(0x3FFB0000 + 4 * i, 0x01020304 * (i + 1));
        var r = await _cli.RunAsync("--port", kept.Port, "dump_mem", "0x3ffb0000", "64", "dump.bin", "--json");
        Ok(r);
        Assert.Equal(kept.Chip.ReadMemory(0x3FFB0000, 64), File.ReadAllBytes(_cli.PathOf("dump.bin")));
        Assert.Equal(64, r.Json.GetProperty("size").GetInt32());
    }

    [Fact]
    public async Task LoadRamPlacesSegmentsAndJumps()
    {
        await using var kept = new KeptChip();
        var image = TestImages.RamApp(entry: 0x40080404);
        _cli.WriteFile("app.bin", image);
        var r = await _cli.RunAsync("--port", kept.Port, "load_ram", "app.bin", "--json");
        Ok(r);
        Assert.Equal(0x40080404u, kept.Chip.LastEntryPoint);
        var parsed = Esp.Protocol.Images.EspImage.Parse(image);
        Assert.Equal(parsed.Segments[0].Data, kept.Chip.ReadMemory(0x40080400, parsed.Segments[0].Data.Length));
        Assert.Equal(0x40080404u, r.Json.GetProperty("entry").GetUInt32());
        Assert.Equal(2, r.Json.GetProperty("segments").GetArrayLength());
    }

    [Fact]
    public async Task LoadRamRejectsFlashSegments()
    {
        await using var kept = new KeptChip();
        var img = Esp.Protocol.Images.EspImage.Create(Esp.Protocol.Chips.ChipDatabase.Esp32);
        img.Entry = 0x400D0000;
        img.Segments.Add(new Esp.Protocol.Images.ImageSegment(0x400D0000, new byte[64]));
        _cli.WriteFile("flashapp.bin", img.ToBytes());
        var r = await _cli.RunAsync("--port", kept.Port, "load_ram", "flashapp.bin");
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("error ESP1017:", r.Stderr);
    }

    [Fact]
    public async Task WriteFlashStatusVolatileAndNonVolatile()
    {
        await using var kept = new KeptChip();
        var r = await _cli.RunAsync("--port", kept.Port, "write_flash_status", "--bytes", "2", "0x0200");
        Ok(r);
        Assert.Contains("After flash status:   0x0200", r.Stdout);
        Assert.Equal(new byte[] { 0x00, 0x02 }, kept.Chip.Flash.VolatileStatus[..2]);
        Assert.Equal(0, kept.Chip.Flash.NonVolatileStatus[1]);

        var nv = await _cli.RunAsync("--port", kept.Port, "write_flash_status", "--non-volatile", "--yes", "--json", "0x0200");
        Ok(nv);
        Assert.True(nv.Json.GetProperty("applied").GetBoolean());
        Assert.True(nv.Json.GetProperty("nonVolatile").GetBoolean());
        Assert.Equal(2, kept.Chip.Flash.NonVolatileStatus[1]);
    }

    [Fact]
    public async Task NonVolatileWriteConfirmedAtThePrompt()
    {
        await using var kept = new KeptChip();
        _cli.IsInteractive = true;
        _cli.Input = "yes\n";
        var r = await _cli.RunAsync("--port", kept.Port, "write_flash_status", "--non-volatile", "0x0200");
        Ok(r);
        Assert.Contains("NON-VOLATILE", r.Stdout);
        Assert.Equal(2, kept.Chip.Flash.NonVolatileStatus[1]);
    }
}
