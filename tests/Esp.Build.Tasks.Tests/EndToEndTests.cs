using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Esp.Protocol.Images;

namespace Esp.Build.Tasks.Tests;

/// <summary>
/// The packed NuGet consumed from a local feed by a temporary nanoFramework project; <c>dotnet build</c> runs the
/// Deploy target and every task against the virtual chip (<c>sim:</c>), and the chip's flash file is checked.
/// </summary>
[Collection(PackageCollection.Name)]
public sealed class EndToEndTests(PackageFixture package)
{
    private const uint DeployOffset = 0x1C0000;
    private const int FlashSize = 4 * 1024 * 1024;

    private string NewDir(string name)
    {
        var dir = Path.Combine(package.Root, name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>A sim: port with its own flash state file and nanoFramework's partition table at 0x8000.</summary>
    private (string Port, string State) VirtualChip(string dir, byte[]? partitionTable = null, string extra = "")
    {
        var table = Path.Combine(dir, "pt.bin");
        File.WriteAllBytes(table, partitionTable ?? PartitionTable.BuildNanoFramework());
        var state = Path.Combine(dir, "flash.bin");
        return ($"sim:esp32?flash=4MB&state={state}&preload=0x8000:{table}{extra}", state);
    }

    private static string Prop(string name, string value) => $"-p:{name}={value}";

    private static JsonElement Summary(string file) => JsonDocument.Parse(File.ReadAllText(file)).RootElement;

    private static byte[] MscorlibPe() =>
        File.ReadAllBytes(Path.Combine(Path.GetDirectoryName(PackageFixture.FindNupkg("nanoframework.corelibrary", PackageFixture.NanoCoreLibraryVersion))!,
            "lib", "mscorlib.pe"));

    [Fact]
    public void ThePackageCarriesTheStubLicenceAndNotice()
    {
        // The stubs themselves are embedded in Esp.Protocol.dll (ShippedStubTests); licence and notice travel beside it.
        Assert.Contains("tasks/net10.0/Esp.Protocol.dll", package.PackageFiles);
        Assert.Contains("tasks/net10.0/THIRD-PARTY-NOTICES.md", package.PackageFiles);
        Assert.Contains("tasks/net10.0/stubs/LICENSE-esptool-js.txt", package.PackageFiles);
    }

    [Fact]
    public void DeployWritesThenSkipsThenRewritesOnlyTheChangedSector()
    {
        var dir = NewDir("deploy");
        var (port, state) = VirtualChip(dir);
        var summaryFile = Path.Combine(dir, "esp-deploy.json");
        string[] args = ["-t:Deploy", Prop("EspPort", port), Prop("EspDeploySummaryFile", summaryFile)];

        // 1. First deploy: the whole deployment image (mscorlib.pe padded, plus the erased end word) is written.
        var first = package.Build(args);
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("ESP4100", first.Output); // the app's own .pe cannot be produced here: a warning, not an invented file
        Assert.Contains("Esp.Build deploy to ESP32", first.Output);
        Assert.Contains("running the flasher stub", first.Output); // the shipped stub is the default
        var pe = MscorlibPe();
        int padded = (pe.Length + 3) & ~3;
        var flash = File.ReadAllBytes(state);
        Assert.Equal(FlashSize, flash.Length);
        Assert.Equal(pe, flash.AsSpan((int)DeployOffset, pe.Length).ToArray());
        Assert.All(flash.AsSpan((int)DeployOffset + padded, 4).ToArray(), b => Assert.Equal(0xFF, b));
        var s1 = Summary(summaryFile);
        Assert.True(s1.GetProperty("bytesWritten").GetInt64() > 0);
        Assert.True(s1.GetProperty("allVerified").GetBoolean());
        var image = s1.GetProperty("images")[0];
        Assert.Equal("0x001C0000", image.GetProperty("address").GetString());
        Assert.Equal(padded + 4, image.GetProperty("length").GetInt32());

        // 2. Nothing changed: nothing is rewritten.
        var second = package.Build(args);
        Assert.True(second.ExitCode == 0, second.ToString());
        var s2 = Summary(summaryFile);
        Assert.Equal(0, s2.GetProperty("bytesWritten").GetInt64());
        Assert.Equal(1, s2.GetProperty("imagesSkipped").GetInt32());
        Assert.Equal("skipped", s2.GetProperty("images")[0].GetProperty("action").GetString());
        Assert.Contains("nothing changed", second.Output);

        // 3. One sector differs on the chip: exactly that 4096-byte sector is rewritten.
        flash = File.ReadAllBytes(state);
        flash[DeployOffset + 0x2000 + 17] ^= 0x5A;
        File.WriteAllBytes(state, flash);
        var third = package.Build(args);
        Assert.True(third.ExitCode == 0, third.ToString());
        var s3 = Summary(summaryFile);
        Assert.Equal(4096, s3.GetProperty("bytesWritten").GetInt64());
        var ranges = s3.GetProperty("images")[0].GetProperty("writtenRanges");
        Assert.Equal(1, ranges.GetArrayLength());
        Assert.Equal("0x001C2000", ranges[0].GetProperty("address").GetString());
        Assert.Equal(pe, File.ReadAllBytes(state).AsSpan((int)DeployOffset, pe.Length).ToArray());
    }

    // The link drops once mid-deploy (the chip stays as it was, as when a remote serial server restarts): the same
    // build reconnects, writes what is missing and says so; with EspResume=false it stops with the range report.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void DeployResumesAfterADroppedLinkUnlessTurnedOff(bool resume)
    {
        var dir = NewDir("resume");
        using var chip = new Esp.Simulator.VirtualChip(new Esp.Simulator.VirtualChipOptions
        {
            Preloads = [new Esp.Simulator.FlashPreload(PartitionTable.DefaultOffset, PartitionTable.BuildNanoFramework())],
            Faults = new Esp.Simulator.FaultOptions { DisconnectAfterHostBytes = 20_000 },
        });
        using var server = new Esp.Simulator.TcpSerialServer(chip);
        var summaryFile = Path.Combine(dir, "esp-deploy.json");

        var r = package.Build(["-t:Deploy", Prop("EspPort", $"socket://127.0.0.1:{server.Port}"), Prop("EspDeploySummaryFile", summaryFile),
            Prop("EspResume", resume ? "true" : "false")]);

        Assert.Equal(1, chip.Statistics.FaultCount(Esp.Simulator.FaultKind.Disconnect));
        if (!resume)
        {
            Assert.NotEqual(0, r.ExitCode);
            Assert.Matches(@"error ESP20\d\d", r.Output);
            Assert.DoesNotContain("reconnecting to resume", r.Output);
            return;
        }
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("reconnecting to resume", r.Output);
        Assert.Contains(", resumed ", r.Output);
        Assert.InRange(Summary(summaryFile).GetProperty("resumes").GetInt32(), 1, 2);
        var pe = MscorlibPe();
        Assert.Equal(pe, chip.Flash.Read(DeployOffset, pe.Length));
    }

    [Fact]
    public void EveryTaskRunsAgainstTheVirtualChip()
    {
        var dir = NewDir("tasks");
        var (port, state) = VirtualChip(dir);
        var data = new byte[8192];
        new Random(7).NextBytes(data);
        File.WriteAllBytes(Path.Combine(dir, "data.bin"), data);
        var changed = (byte[])data.Clone();
        changed[100] ^= 0xFF;
        File.WriteAllBytes(Path.Combine(dir, "changed.bin"), changed);
        File.WriteAllBytes(Path.Combine(dir, "ram.bin"), [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]);
        var results = Path.Combine(dir, "results.txt");
        var targets = Path.Combine(dir, "all.targets");
        File.WriteAllText(targets, AllTasksTargets);
        var r = package.Build(["-t:AllTasks", Prop("EspPort", port), Prop("TestDir", dir), Prop("ResultsFile", results), Prop("EspTestTargets", targets)]);
        Assert.True(r.ExitCode == 0, r.ToString());
        var values = File.ReadAllLines(results).Where(l => l.Contains('=')).ToDictionary(l => l[..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..]);
        Assert.Equal("ESP32", values["ChipName"]);
        Assert.Equal("esp32", values["ChipKey"]);
        Assert.Matches("^v[0-9]+\\.[0-9]+$", values["Revision"]);
        Assert.Matches("^([0-9a-f]{2}:){5}[0-9a-f]{2}$", values["Mac"]);
        Assert.Equal("4MB", values["FlashSize"]);
        Assert.StartsWith("0x", values["FlashId"]);
        Assert.Equal("8192", values["Written"]);
        Assert.Equal("True", values["Verified"], ignoreCase: true);
        Assert.Equal("False", values["ChangedMatched"], ignoreCase: true);
        Assert.Equal("0x00100064", values["Mismatch"].Split(':')[0]);
        Assert.Equal(data, File.ReadAllBytes(Path.Combine(dir, "read.bin")));
        Assert.Equal(4L * 1024 * 1024, long.Parse(values["SfdpDensity"]));
        Assert.False(string.IsNullOrEmpty(values["SfdpHex"]));
        Assert.StartsWith("0x", values["Status"]);
        Assert.Equal("True", values["StatusApplied"], ignoreCase: true);
        Assert.Equal("0x00F01D83", values["MemValue"]); // each task meets a fresh chip: read the ESP32's chip-detect word
        Assert.Equal(16, File.ReadAllBytes(Path.Combine(dir, "dump.bin")).Length);
        Assert.Equal("8", values["RamLoaded"]);

        // The flash file: data written at 0x100000, then its second sector erased.
        var flash = File.ReadAllBytes(state);
        Assert.Equal(data.AsSpan(0, 4096).ToArray(), flash.AsSpan(0x100000, 4096).ToArray());
        Assert.All(flash.AsSpan(0x101000, 4096).ToArray(), b => Assert.Equal(0xFF, b));
    }

    [Fact]
    public void EspFlashPatchesTheBootloaderHeaderWithTheDetectedFlashSize()
    {
        var dir = NewDir("flashsize");
        var (port, state) = VirtualChip(dir);
        var image = EspImage.Create(Esp.Protocol.Chips.ChipDatabase.Esp32);
        image.Entry = 0x40080404;
        image.FlashSizeCode = Esp.Protocol.Chips.ChipDatabase.Esp32.FlashSizes["1MB"];
        image.Segments.Add(new ImageSegment(0x40080400, new byte[0x200]));
        File.WriteAllBytes(Path.Combine(dir, "bootloader.bin"), image.ToBytes());
        var targets = Path.Combine(dir, "bootloader.targets");
        File.WriteAllText(targets, """
            <Project>
              <ItemGroup>
                <EspFlashImage Include="$(TestDir)/bootloader.bin" Address="0x1000" />
              </ItemGroup>
            </Project>
            """);
        var r = package.Build(["-t:EspFlash", Prop("EspPort", port), Prop("TestDir", dir), Prop("EspTestTargets", targets),
            Prop("EspFlashSize", "detect"), Prop("EspFlashMode", "dout")]);
        Assert.True(r.ExitCode == 0, r.ToString());
        var written = EspImage.Parse(File.ReadAllBytes(state).AsSpan(0x1000, 0x1000), Esp.Protocol.Chips.ChipDatabase.Esp32);
        Assert.Equal("4MB", written.FlashSizeName(Esp.Protocol.Chips.ChipDatabase.Esp32));
        Assert.Equal(FlashMode.Dout, written.FlashMode);
    }

    [Fact]
    public void PlainBuildDeploysWithThePortFromEspUserPropsOverTheEnvironment()
    {
        var dir = NewDir("userprops");
        var (port, state) = VirtualChip(dir);
        var userProps = Path.Combine(package.NanoProject, "Esp.user.props");
        File.WriteAllText(userProps, $"""
            <Project>
              <PropertyGroup>
                <EspPort>{System.Security.SecurityElement.Escape(port)}</EspPort>
                <EspDeployOnBuild>true</EspDeployOnBuild>
              </PropertyGroup>
            </Project>
            """);
        try
        {
            // ESPTOOL_PORT names a port where nothing listens: the per-user file must win over it.
            var r = package.Build([Prop("EspDeploySummaryFile", Path.Combine(dir, "s.json"))],
                new Dictionary<string, string?> { ["ESPTOOL_PORT"] = "socket://127.0.0.1:1" });
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Contains("Esp.Build deploy to ESP32", r.Output);
            Assert.Equal(MscorlibPe(), File.ReadAllBytes(state).AsSpan((int)DeployOffset, MscorlibPe().Length).ToArray());
        }
        finally
        {
            File.Delete(userProps);
        }
    }

    [Fact]
    public void EsptoolPortWinsOverTheProjectsDefaultPort()
    {
        var dir = NewDir("defaultport");
        var (port, _) = VirtualChip(dir);
        // EspDefaultPort names a port where nothing listens: ESPTOOL_PORT, read by the task, must win over it.
        var r = package.Build(["-t:EspInfo", "-p:EspPort=", Prop("EspDefaultPort", "socket://127.0.0.1:1")],
            new Dictionary<string, string?> { ["ESPTOOL_PORT"] = port });
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("connected to ESP32", r.Output);

        // Without ESPTOOL_PORT the project's default port is used.
        r = package.Build(["-t:EspInfo", "-p:EspPort=", Prop("EspDefaultPort", port)]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("connected to ESP32", r.Output);
    }

    [Fact]
    public void NoPortAndNoBridgeFailsWithEsp2003()
    {
        using var sysfs = new FakeSysfs();
        var r = package.Build(["-t:EspInfo", "-p:EspPort="], new Dictionary<string, string?> { ["ESP_BUILD_SYSFS_ROOT"] = sysfs.Root });
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("error ESP2003", r.Output);
        Assert.Contains("EspPort", r.Output);
    }

    [Fact]
    public void TwoCandidatePortsFailWithEsp2004ListingBoth()
    {
        using var sysfs = new FakeSysfs();
        sysfs.AddUsb("ttyUSB0", 1, "10c4", "ea60");
        sysfs.AddUsb("ttyUSB1", 2, "1a86", "7523");
        var r = package.Build(["-t:EspInfo", "-p:EspPort="], new Dictionary<string, string?> { ["ESP_BUILD_SYSFS_ROOT"] = sysfs.Root });
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("error ESP2004", r.Output);
        Assert.Contains("ttyUSB0", r.Output);
        Assert.Contains("ttyUSB1", r.Output);
    }

    [Fact]
    public void ImageLargerThanTheDeployPartitionFailsWithEsp4004()
    {
        var dir = NewDir("toolarge");
        var table = PartitionTable.Build(
        [
            new("nvs", PartitionTable.TypeData, 0x02, 0x9000, 0x6000),
            new("factory", PartitionTable.TypeApp, 0x00, 0x10000, 0x100000),
            new("deploy", PartitionTable.TypeData, NanoFrameworkDeployment.DeployPartitionSubType, 0x110000, 0x1000),
        ]);
        var (port, state) = VirtualChip(dir, table);
        var r = package.Build(["-t:Deploy", Prop("EspPort", port)]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("error ESP4004", r.Output);
        var flash = File.ReadAllBytes(state);
        Assert.All(flash.AsSpan(0x110000, 0x1000).ToArray(), b => Assert.Equal(0xFF, b)); // nothing was written
    }

    [Fact]
    public void SilentChipFailsWithoutHanging()
    {
        var dir = NewDir("silent");
        var (port, _) = VirtualChip(dir, extra: "&download=false");
        var sw = Stopwatch.StartNew();
        var r = package.Build(["-t:EspInfo", Prop("EspPort", port), "-p:EspBefore=no-reset", "-p:EspConnectAttempts=1"]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Matches("error ESP20(06|11)", r.Output); // no sync reply, or "booted normally" when the boot log says so
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60));
    }

    [Fact]
    public void BadNanoFrameworkAssemblyFailsWithEsp1010()
    {
        var dir = NewDir("badimage");
        var (port, _) = VirtualChip(dir);
        var bad = Path.Combine(dir, "App.pe");
        File.WriteAllBytes(bad, Encoding.ASCII.GetBytes("MZ this is a .dll, not a nanoFramework .pe"));
        var r = package.Build(["-t:Deploy", Prop("EspPort", port), Prop("EspNanoFrameworkApplicationPe", bad)]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("error ESP1010", r.Output);
    }

    [Fact]
    public void CtrlCCancelsAWriteAndSaysWhatWasWritten()
    {
        var dir = NewDir("cancel");
        var (port, state) = VirtualChip(dir, extra: "&baud-throttle=true");
        // 1 MiB at 115200 Bd takes about 90 s: the Ctrl+C always lands mid-write, however slow the machine.
        var big = new byte[1024 * 1024];
        new Random(3).NextBytes(big);
        File.WriteAllBytes(Path.Combine(dir, "big.bin"), big);
        var targets = Path.Combine(dir, "slow.targets");
        File.WriteAllText(targets, """
            <Project>
              <ItemGroup>
                <SlowImage Include="$(TestDir)/big.bin" Address="0x200000" />
              </ItemGroup>
              <Target Name="SlowWrite">
                <EspWriteFlash Port="$(EspPort)" Baud="115200" Images="@(SlowImage)" />
              </Target>
            </Project>
            """);
        var interrupted = Stopwatch.StartNew();
        var r = package.Build(["-t:SlowWrite", "-v:n", Prop("EspPort", port), Prop("TestDir", dir), Prop("EspTestTargets", targets)], whileRunning: (p, output) =>
            {
                // Wait until the write is under way (the progress line, or the first sector in the chip's flash file),
                // then send Ctrl+C (SIGINT) to dotnet build.
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(80);
                while (DateTime.UtcNow < deadline && !p.HasExited && !WriteUnderWay(output, state, big)) Thread.Sleep(50);
                interrupted.Restart();
                lock (output) output.AppendLine($"[test] Ctrl+C sent{(p.HasExited ? " too late: the build had ended" : "")}");
                if (!p.HasExited) Process.Start("kill", ["-INT", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            });
        Assert.True(r.ExitCode != 0, r.ToString());
        Assert.Contains("warning ESP9001: Write cancelled", r.Output);
        Assert.Contains("Not written", r.Output);
        Assert.True(interrupted.Elapsed < TimeSpan.FromSeconds(30), $"the build took {interrupted.Elapsed} to stop after Ctrl+C\n{r}");
    }

    private static bool WriteUnderWay(StringBuilder output, string state, byte[] image)
    {
        lock (output) if (output.ToString().Contains("big.bin: ", StringComparison.Ordinal)) return true;
        try
        {
            using var f = new FileStream(state, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (f.Length < 0x201000) return false;
            var sector = new byte[4096];
            f.Position = 0x200000;
            f.ReadExactly(sector);
            return sector.AsSpan().SequenceEqual(image.AsSpan(0, 4096));
        }
        catch (IOException)
        {
            return false;
        }
    }

    private const string AllTasksTargets = """
        <Project>
          <ItemGroup>
            <TestImage Include="$(TestDir)/data.bin" Address="0x100000" />
            <ChangedImage Include="$(TestDir)/changed.bin" Address="0x100000" />
            <RamSegment Include="$(TestDir)/ram.bin" Address="0x3FFB2000" />
          </ItemGroup>
          <Target Name="AllTasks">
            <EspChipInfo Port="$(EspPort)">
              <Output TaskParameter="ChipName" PropertyName="R_ChipName" />
              <Output TaskParameter="ChipKey" PropertyName="R_ChipKey" />
              <Output TaskParameter="Revision" PropertyName="R_Revision" />
              <Output TaskParameter="Mac" PropertyName="R_Mac" />
              <Output TaskParameter="FlashId" PropertyName="R_FlashId" />
              <Output TaskParameter="FlashSize" PropertyName="R_FlashSize" />
            </EspChipInfo>
            <EspWriteFlash Port="$(EspPort)" Images="@(TestImage)">
              <Output TaskParameter="BytesWritten" PropertyName="R_Written" />
            </EspWriteFlash>
            <EspVerifyFlash Port="$(EspPort)" Images="@(TestImage)">
              <Output TaskParameter="Matched" PropertyName="R_Verified" />
            </EspVerifyFlash>
            <EspVerifyFlash Port="$(EspPort)" Images="@(ChangedImage)" FailOnMismatch="false">
              <Output TaskParameter="Matched" PropertyName="R_ChangedMatched" />
              <Output TaskParameter="Mismatches" ItemName="R_Mismatch" />
            </EspVerifyFlash>
            <EspReadFlash Port="$(EspPort)" Address="0x100000" Length="8192" OutputFile="$(TestDir)/read.bin" />
            <EspEraseFlash Port="$(EspPort)" Address="0x101000" Length="0x1000" />
            <EspReadFlashStatus Port="$(EspPort)">
              <Output TaskParameter="Status" PropertyName="R_Status" />
            </EspReadFlashStatus>
            <EspWriteFlashStatus Port="$(EspPort)" Value="0x0200">
              <Output TaskParameter="Applied" PropertyName="R_StatusApplied" />
            </EspWriteFlashStatus>
            <EspReadSfdp Port="$(EspPort)">
              <Output TaskParameter="DensityBytes" PropertyName="R_SfdpDensity" />
              <Output TaskParameter="Hex" PropertyName="R_SfdpHex" />
            </EspReadSfdp>
            <EspWriteMem Port="$(EspPort)" Address="0x3FFB1000" Value="0x12345678" />
            <EspReadMem Port="$(EspPort)" Address="0x40001000">
              <Output TaskParameter="Value" PropertyName="R_MemValue" />
            </EspReadMem>
            <EspDumpMem Port="$(EspPort)" Address="0x3FFB1000" Size="16" OutputFile="$(TestDir)/dump.bin" />
            <EspLoadRam Port="$(EspPort)" Segments="@(RamSegment)" Entry="0">
              <Output TaskParameter="BytesLoaded" PropertyName="R_RamLoaded" />
            </EspLoadRam>
            <PropertyGroup>
              <R_MismatchText>@(R_Mismatch->'%(Address):%(Length)')</R_MismatchText>
            </PropertyGroup>
            <WriteLinesToFile File="$(ResultsFile)" Overwrite="true" Lines="ChipName=$(R_ChipName);ChipKey=$(R_ChipKey);Revision=$(R_Revision);Mac=$(R_Mac);FlashId=$(R_FlashId);FlashSize=$(R_FlashSize);Written=$(R_Written);Verified=$(R_Verified);ChangedMatched=$(R_ChangedMatched);Mismatch=$(R_MismatchText);Status=$(R_Status);StatusApplied=$(R_StatusApplied);SfdpDensity=$(R_SfdpDensity);SfdpHex=$(R_SfdpHex);MemValue=$(R_MemValue);RamLoaded=$(R_RamLoaded)" />
          </Target>
        </Project>
        """;
}

