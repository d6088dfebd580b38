using Esp.Protocol.Loader;

namespace Esp.Cli.Tests;

public class ConfigTests : IDisposable
{
    private readonly CliRunner _cli = new();
    public void Dispose() => _cli.Dispose();

    private CliHost Host() => new() { Environment = _cli.Environment, CurrentDirectory = _cli.Directory, HomeDirectory = _cli.Home };

    [Fact]
    public void ReadsEsptoolSectionWithContinuationLines()
    {
        var s = EsptoolConfig.ParseSection("""
            [other]
            timeout = 99
            [esptool]
            # comment
            timeout = 5
            connect_attempts: 3
            custom_reset_sequence = D0|R1|W0.1
              D1|R0|W0.05
            """, "esptool")!;
        Assert.Equal("5", s["timeout"]);
        Assert.Equal("3", s["connect_attempts"]);
        Assert.Equal("D0|R1|W0.1\nD1|R0|W0.05", s["custom_reset_sequence"]);
    }

    [Fact]
    public void CurrentDirectoryBeatsUserConfigDirectory()
    {
        Directory.CreateDirectory(Path.Combine(_cli.Home, ".config", "esptool"));
        File.WriteAllText(Path.Combine(_cli.Home, ".config", "esptool", "esptool.cfg"), "[esptool]\ntimeout = 7\n");
        Assert.Equal(TimeSpan.FromSeconds(7), EsptoolConfig.Load(Host()).Seconds("timeout"));

        File.WriteAllText(_cli.PathOf("esptool.cfg"), "[esptool]\ntimeout = 2\n");
        var cfg = EsptoolConfig.Load(Host());
        Assert.Equal(_cli.PathOf("esptool.cfg"), cfg.Path);
        Assert.Equal(TimeSpan.FromSeconds(2), cfg.Seconds("timeout"));
    }

    [Fact]
    public void FileWithoutEsptoolSectionIsSkipped()
    {
        File.WriteAllText(_cli.PathOf("esptool.cfg"), "[tool]\ntimeout = 2\n");
        File.WriteAllText(_cli.PathOf("setup.cfg"), "[esptool]\nconnect_attempts = 4\n");
        var cfg = EsptoolConfig.Load(Host());
        Assert.Equal(_cli.PathOf("setup.cfg"), cfg.Path);
        Assert.Equal(4, cfg.Integer("connect_attempts"));
    }

    [Fact]
    public void EnvironmentVariableNamesTheFile()
    {
        var other = _cli.PathOf("elsewhere.ini");
        File.WriteAllText(other, "[esptool]\nmax_timeout = 30\n");
        File.WriteAllText(_cli.PathOf("esptool.cfg"), "[esptool]\nmax_timeout = 2\n");
        _cli.Environment["ESPTOOL_CFGFILE"] = other;
        Assert.Equal(other, EsptoolConfig.Load(Host()).Path);
    }

    [Fact]
    public void TimeoutsMapToEngineSettings()
    {
        File.WriteAllText(_cli.PathOf("esptool.cfg"), "[esptool]\ntimeout = 4\nchip_erase_timeout = 200\nsync_timeout = 0.2\nmd5_timeout_per_mb = 9\nerase_write_timeout_per_mb = 50\nmem_end_rom_timeout = 0.5\nmax_timeout = 300\n");
        var t = EsptoolConfig.Load(Host()).ApplyTimeouts(EspTimeouts.Default);
        Assert.Equal(TimeSpan.FromSeconds(4), t.Command);
        Assert.Equal(TimeSpan.FromSeconds(200), t.ChipErase);
        Assert.Equal(TimeSpan.FromSeconds(0.2), t.Sync);
        Assert.Equal(TimeSpan.FromSeconds(9), t.Md5PerMegabyte);
        Assert.Equal(TimeSpan.FromSeconds(50), t.EraseWritePerMegabyte);
        Assert.Equal(TimeSpan.FromSeconds(0.5), t.MemEndRom);
        Assert.Equal(TimeSpan.FromSeconds(300), t.Max);
    }

    [Fact]
    public async Task BadConfigValueIsUsageError()
    {
        File.WriteAllText(_cli.PathOf("esptool.cfg"), "[esptool]\ntimeout = soon\n");
        var r = await _cli.RunAsync("--port", "socket://127.0.0.1:1", "read_mac");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("esptool.cfg", r.Stderr);
    }

    [Fact]
    public async Task BadEnvironmentBaudIsUsageError()
    {
        _cli.Environment["ESPTOOL_BAUD"] = "fast";
        var r = await _cli.RunAsync("--port", "socket://127.0.0.1:1", "read_mac");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("'fast' is not a valid baud rate", r.Stderr);
    }
}
