using System.Text;
using Esp.Protocol.Chips;
using Esp.Protocol.Errors;
using Esp.Protocol.Images;
using Esp.Protocol.Loader;
using Esp.Protocol.Loader.Reset;
using Esp.Protocol.Operations;
using Esp.Protocol.Tests.Images;
using Esp.Protocol.Tests.Transport;
using Esp.Protocol.Transport;
using Esp.Simulator;
using Esp.Simulator.Link;
using Esp.TestSupport;

namespace Esp.Reliability.Tests;

/// <summary>One bad input: what it is, what the engine must say, and how the user fixes it.</summary>
public sealed record BadInput(EspErrorCode Code, string Case, string MessagePart, string Fix, Func<Task> Act);

/// <summary>
/// The bad-input catalogue (docs/reliability.md): each case must fail with its code and a message naming the problem,
/// before anything is erased. Set ESP_WRITE_CATALOGUE=path to write the Markdown table from these cases.
/// </summary>
public class BadInputCatalogueTests
{
    private static byte[] Bytes(int n, int seed = 1) => FuzzBytes(n, seed);
    private static byte[] FuzzBytes(int n, int seed) { var b = new byte[n]; new Random(seed).NextBytes(b); return b; }

    private static Task Sync(Action a) { a(); return Task.CompletedTask; }

    private static async Task WithRig(Func<SimRig, Task> act, string chip = "esp32", bool stub = true, VirtualChipOptions? options = null)
    {
        await using var rig = await SimRig.OpenAsync(chip, stub, options, new SimRigOptions { After = "no-reset", Timeouts = EspTimeouts.Default });
        await act(rig);
    }

    private static async Task Connect(VirtualChipOptions chipOptions, string chip = "auto", string before = "default-reset", int attempts = 7)
    {
        await using var vc = new VirtualChip(chipOptions);
        await using var t = SimulatorPort.Connect(vc);
        await using var s = await EspSession.ConnectAsync(new ConnectOptions
        {
            Port = "sim", Transport = t, Chip = chip, Baud = 115200, Before = before, ConnectAttempts = attempts,
            Timeouts = EspTimeouts.Default with { Command = TimeSpan.FromSeconds(1) },
        });
    }

    private static byte[] Esp32Image(ushort chipId = 0)
    {
        var image = EspImage.Create(chipId == 0 ? ChipDatabase.Esp32 : ChipDatabase.ByImageChipId(chipId)!);
        image.Entry = 0x40080400;
        image.Segments.Add(new ImageSegment(0x40080000, Bytes(512, 9)));
        return image.ToBytes();
    }

    public static IReadOnlyList<BadInput> Cases { get; } =
    [
        // ---- arguments and addresses
        new(EspErrorCode.InvalidArgument, "status register width other than 1..3 bytes", "--bytes must be 1, 2 or 3",
            "Pass 1, 2 or 3.", () => WithRig(r => FlashStatus.ReadAsync(r.Session, 4))),
        new(EspErrorCode.InvalidArgument, "negative read length", "must not be negative",
            "Give a length ≥ 0.", () => WithRig(r => FlashReader.ReadAsync(r.Session, 0, -1))),
        new(EspErrorCode.InvalidArgument, "deploy compare unit not a multiple of 4 KiB", "multiple of 4096",
            "Use a sector size of 4096·n that divides the block size.",
            () => WithRig(r => Deployer.DeployAsync(r.Session, [new DeployImage("a", 0x10000, Bytes(16))], new DeployOptions { SectorSize = 1000 }))),
        new(EspErrorCode.InvalidArgument, "unknown flash size name in an image header patch", "Flash size '5MB' is not valid",
            "Use one of the chip's sizes (1MB, 2MB, 4MB…) or keep.", () => Sync(() => EspImage.ParseFlashSize(ChipDatabase.Esp32, "5MB"))),
        new(EspErrorCode.UnalignedAddress, "deploy image at an address that is not sector aligned", "not a multiple of 4096",
            "Deploy at a multiple of 0x1000.", () => WithRig(r => Deployer.DeployAsync(r.Session, [new DeployImage("app", 0x10001, Bytes(64))]))),
        new(EspErrorCode.AddressOutOfRange, "write running past the end of the flash", "runs past the end of the 4MB flash",
            "Use a lower address or a smaller file.", () => WithRig(r => FlashWriter.WriteAsync(r.Session, 0x3FF000, Bytes(0x2000)))),
        new(EspErrorCode.AddressOutOfRange, "read past the end of the flash", "runs past the end",
            "Keep address + length inside the flash.", () => WithRig(r => FlashReader.ReadAsync(r.Session, 0xFFFFF000, 0x2000))),
        new(EspErrorCode.OverlappingRegions, "two deploy images overlap", "overlap",
            "Move one image so the ranges are disjoint.",
            () => WithRig(r => Deployer.DeployAsync(r.Session, [new DeployImage("a", 0x10000, Bytes(0x3000)), new DeployImage("b", 0x11000, Bytes(16))]))),
        new(EspErrorCode.OverlappingRegions, "merge_bin parts overlap", "overlap",
            "Move one part.", () => Sync(() => MergeBin.ToRaw([new ImagePart(0x1000, Bytes(0x2000)), new ImagePart(0x2000, Bytes(16))]))),

        // ---- files
        new(EspErrorCode.FileNotFound, "stub file missing", "nonexistent-stub.json",
            "Check the path.", () => Sync(() => StubImage.Load("/nonexistent-stub.json"))),
        new(EspErrorCode.FileEmpty, "empty file to write", "nothing to write",
            "Give a file that contains data.", () => WithRig(r => FlashWriter.WriteAsync(r.Session, 0x10000, Array.Empty<byte>()))),
        new(EspErrorCode.FileEmpty, "empty deploy image", "is empty",
            "Give a non-empty image.", () => WithRig(r => Deployer.DeployAsync(r.Session, [new DeployImage("app", 0x10000, [])]))),
        new(EspErrorCode.FileTooLarge, "merged output larger than allowed", "",
            "Use a smaller pad size or fewer parts.",
            () => Sync(() => MergeBin.ToRaw([new ImagePart(0x1000, Bytes(16))], new MergeOptions { PadToSize = 0x7000_0000 }))),
        new(EspErrorCode.ImageTooLargeForPartition, "nanoFramework deployment larger than its partition", "the partition has",
            "Make the deployment smaller or enlarge the partition.",
            () => Sync(() => NanoFrameworkDeployment.Build([("a", NfPe())]).CheckFits(0x10))),

        // ---- images
        new(EspErrorCode.InvalidImage, "file is not an ESP image (no 0xE9 magic)", "",
            "Give an application image.", () => Sync(() => EspImage.Parse(Encoding.ASCII.GetBytes("hello, this is not an image at all")))),
        new(EspErrorCode.InvalidImage, "truncated ESP image", "",
            "Rebuild or copy the whole file.", () => Sync(() => EspImage.Parse(Esp32Image().AsSpan(0, 100)))),
        new(EspErrorCode.ImageChecksumMismatch, "ESP image with a damaged byte (checksum/SHA-256)", "",
            "Rebuild the image.", () => Sync(() => { var b = Esp32Image(); b[40] ^= 0xFF; EspImage.Parse(b).Verify(); })),
        new(EspErrorCode.InvalidIntelHex, "Intel HEX record with a wrong checksum", "Line 1 has checksum",
            "Regenerate the HEX file.", () => Sync(() => IntelHex.Parse(":0400000001020304F0\n:00000001FF\n"))),
        new(EspErrorCode.InvalidIntelHex, "Intel HEX line that is not a record", "Line 1 does not start with",
            "Regenerate the HEX file.", () => Sync(() => IntelHex.Parse("hello\n"))),
        new(EspErrorCode.InvalidElf, "ELF input that is not an ELF file", "",
            "Give the firmware's .elf.", () => Sync(() => ElfToImage.Convert(Bytes(200), ChipDatabase.Esp32))),
        new(EspErrorCode.InvalidElf, "truncated ELF", "",
            "Give the whole .elf.", () => Sync(() => ElfToImage.Convert(new ElfWriter().Add(".iram0.text", 0x40080000, Bytes(256)).Build().AsSpan(0, 60), ChipDatabase.Esp32))),
        new(EspErrorCode.InvalidPartitionTable, "partition table with garbage", "",
            "Flash a valid table at 0x8000.", () => Sync(() => PartitionTable.Parse(Bytes(0xC00)))),
        new(EspErrorCode.InvalidStubFile, "stub JSON without an entry point", "entry",
            "Use an esptool stub JSON.", () => Sync(() => StubImage.Parse("{\"text\":\"AAAA\",\"text_start\":1073741824}", "x.json"))),
        new(EspErrorCode.InvalidSfdp, "SFDP table without its signature", "SFDP",
            "The flash has no SFDP; nothing to fix in the input.", () => Sync(() => SfdpInfo.Parse(new byte[64]))),

        // ---- RAM loading
        new(EspErrorCode.SegmentOverlapsStub, "load_ram segment over the running stub", "overlaps the running flasher stub",
            "Link the program outside the stub's RAM or use --no-stub.",
            () => Sync(() => RamLoader.Check(ChipDatabase.Esp32C3, [new RamSegment(ChipDatabase.Esp32C3.StubFor()!.TextStart + 16, Bytes(64))], null, ChipDatabase.Esp32C3.StubFor()))),
        new(EspErrorCode.SegmentNotInRam, "load_ram segment in flash-mapped memory", "is not in ESP32 RAM",
            "Write flash-mapped code with write_flash.", () => Sync(() => RamLoader.Check(ChipDatabase.Esp32, [new RamSegment(0x400D0000, Bytes(64))], null))),

        // ---- chips, settings, consent
        new(EspErrorCode.UnknownChip, "unknown chip name", "esp99",
            "Use a supported chip key or auto.", () => Sync(() => ChipDatabase.Get("esp99"))),
        new(EspErrorCode.UnknownChip, "chip with an unknown identification word", "matches no known chip",
            "Select the chip explicitly if it is supported.", () => Connect(new VirtualChipOptions { Chip = "esp32", MagicValue = 0x12345678 })),
        new(EspErrorCode.ChipMismatch, "--chip names another chip than the one connected", "not ESP32-C3",
            "Use --chip auto or the right chip.", () => Connect(new VirtualChipOptions { Chip = "esp32" }, chip: "esp32c3")),
        new(EspErrorCode.ConfirmationRequired, "non-volatile status write without confirmation (CI)", "needs confirmation",
            "Confirm with --yes / EspAllowNonVolatileStatusWrite=true.",
            () => WithRig(r => FlashStatus.WriteConfirmedAsync(r.Session, 0x1C, 1, nonVolatile: true, confirmed: false))),
        new(EspErrorCode.InvalidResetSequence, "custom reset sequence with an unknown step", "",
            "Write steps as D0|R1|W0.1.", () => Sync(() => CustomResetSequence.Parse("D0|Q1"))),
        new(EspErrorCode.InvalidVersionRange, "chip revision range that does not parse", "not a chip revision range",
            "Write [3.0,) or [1.0,3.99].", () => Sync(() => DeployGuards.ParseRevisionRange("[x,"))),
        new(EspErrorCode.ImageChipMismatch, "deploying an ESP32-C3 image to an ESP32", "was built for ESP32-C3",
            "Build for the connected chip or --force.",
            () => WithRig(r => DeployGuards.CheckAsync(r.Session, [new DeployImage("app", 0x10000, Esp32Image(ChipDatabase.Esp32C3.ImageChipId!.Value))], new GuardOptions { PartitionTableOffset = null }))),

        // ---- ports
        new(EspErrorCode.PortNotFound, "serial port that does not exist", "/dev/ttyNOPE0",
            "Check the port name.", () => Sync(() => SerialTransport.Open("/dev/ttyNOPE0", new TransportOptions()).DisposeAsync())),
        new(EspErrorCode.PortBusy, "serial port held by another program", "",
            "Close the other program.", PortBusy),
        new(EspErrorCode.InvalidPortUri, "unknown port scheme", "bogus:",
            "Use a device path, socket://, rfc2217:// or sim:.", () => TransportFactory.OpenAsync("bogus://x")),
        new(EspErrorCode.NoSyncReply, "chip not in download mode (booted its app), no reset possible", "",
            "Hold BOOT while resetting.",
            () => Connect(new VirtualChipOptions { Chip = "esp32", StartInDownloadMode = false }, before: "no-reset", attempts: 1)),

        // ---- the chip says no
        new(EspErrorCode.UnsupportedCommand, "Secure Download Mode refuses a command (READ_REG)", "refuses it in Secure Download Mode",
            "Use the commands Secure Download Mode permits.",
            () => WithRig(r => r.Session.ReadRegAsync(0x3FF5A000), "esp32s3", stub: false, new VirtualChipOptions { SecureDownload = true })),
        new(EspErrorCode.SecureDownloadMode, "deploy guard on a chip in Secure Download Mode", "Secure Download Mode",
            "Deploy through the secure update path or --force.",
            () => WithRig(r => DeployGuards.CheckAsync(r.Session, [new DeployImage("app", 0x10000, Bytes(64))]), "esp32s3", stub: false, new VirtualChipOptions { SecureDownload = true })),
        new(EspErrorCode.FlashEncrypted, "plain write to a chip with flash encryption on", "Flash encryption is enabled",
            "Write pre-encrypted images with the encrypt option.",
            () => WithRig(r => FlashWriter.WriteAsync(r.Session, 0x10000, Bytes(64)), "esp32c3", stub: false, new VirtualChipOptions { FlashCryptCnt = 1 })),
        new(EspErrorCode.FlashWriteProtected, "flash write-protected by status bits (BP with SRP1 locked)", "",
            "Clear the block-protect bits (write_flash_status).",
            () => WithRig(r => FlashWriter.WriteAsync(r.Session, 0x10000, Bytes(0x1000)), "esp32", stub: true,
                new VirtualChipOptions { FlashStatus = [0x1C, 0x01, 0x00] })),
        new(EspErrorCode.RomError, "ROM write to block-protected flash (read-back fails)", "ROM loader refused",
            "Clear the block-protect bits (write_flash_status).",
            () => WithRig(r => FlashWriter.WriteAsync(r.Session, 0x10000, Bytes(0x1000)), "esp32", stub: false,
                new VirtualChipOptions { FlashStatus = [0x1C, 0x00, 0x00] })),
    ];

    private static byte[] NfPe()
    {
        var pe = new byte[256];
        Encoding.ASCII.GetBytes("NFMRK2").CopyTo(pe, 0);
        return pe;
    }

    private static async Task PortBusy()
    {
        if (OperatingSystem.IsWindows()) throw new EspException(EspErrorCode.PortBusy, "not run on Windows");
        using var pty = new Pty();
        await using var first = SerialTransport.Open(pty.SlavePath, new TransportOptions());
        SerialTransport.Open(pty.SlavePath, new TransportOptions());
    }

    public static TheoryData<string> Names() => new(Cases.Select(c => c.Case));

    [Theory]
    [MemberData(nameof(Names))]
    public async Task BadInputFailsWithItsCodeAndMessage(string name)
    {
        var c = Cases.Single(x => x.Case == name);
        var ex = await Assert.ThrowsAnyAsync<EspException>(c.Act);
        Assert.Equal(c.Code, ex.Code);
        Assert.Contains(c.MessagePart, ex.Message);
        Assert.False(string.IsNullOrWhiteSpace(ex.Help));
        Assert.StartsWith("ESP", ex.CodeText);
    }

    [Fact]
    public async Task CatalogueHasAtLeastThirtyCases()
    {
        Assert.True(Cases.Count >= 30, $"{Cases.Count} cases");
        Assert.Equal(Cases.Count, Cases.Select(c => c.Case).Distinct().Count());
        if (Environment.GetEnvironmentVariable("ESP_WRITE_CATALOGUE") is { Length: > 0 } path)
        {
            var sb = new StringBuilder("| code | case | message (excerpt) | fix |\n|---|---|---|---|\n");
            foreach (var c in Cases)
            {
                string message;
                try { await c.Act(); message = "(no error!)"; }
                catch (EspException ex) { message = ex.Message; }
                sb.AppendLine($"| {EspException.FormatCode(c.Code)} {c.Code} | {c.Case} | {message.Replace("|", "\\|")} | {c.Fix} |");
            }
            File.WriteAllText(path, sb.ToString());
        }
    }
}
