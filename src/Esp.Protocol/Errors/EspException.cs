namespace Esp.Protocol.Errors;

/// <summary>
/// Every failure the engine reports: a stable <see cref="Code"/>, a sentence saying what went wrong, and
/// a <see cref="Help"/> sentence saying what the user can do about it.
/// </summary>
public class EspException : Exception
{
    public EspException(EspErrorCode code, string message, string? help = null, Exception? inner = null)
        : base(message, inner)
    {
        Code = code;
        Help = help ?? EspErrorHelp.For(code);
    }

    public EspErrorCode Code { get; }

    /// <summary>What the user can do. Never empty.</summary>
    public string Help { get; }

    /// <summary>The code as users see it, e.g. <c>ESP2006</c>.</summary>
    public string CodeText => FormatCode(Code);

    public static string FormatCode(EspErrorCode code) => $"ESP{(int)code:D4}";

    public override string ToString() => $"{CodeText}: {Message} {Help}";
}

/// <summary>The chip answered a command with a failure status.</summary>
public sealed class EspCommandException : EspException
{
    public EspCommandException(EspErrorCode code, byte opcode, byte status, byte error, string message, string? help = null)
        : base(code, message, help)
    {
        Opcode = opcode;
        Status = status;
        Error = error;
    }

    public byte Opcode { get; }
    /// <summary>First status byte (ROM: 1 = failure; stub: the error code itself).</summary>
    public byte Status { get; }
    /// <summary>Second status byte (ROM: the reason code).</summary>
    public byte Error { get; }
}

/// <summary>Default help sentences, one per code.</summary>
public static class EspErrorHelp
{
    public static string For(EspErrorCode code) => code switch
    {
        EspErrorCode.InvalidArgument => "Check the value against the command's usage.",
        EspErrorCode.InvalidNumber => "Write numbers as decimal (4096) or hex (0x1000); sizes may end in k, M or MB.",
        EspErrorCode.UnalignedAddress => "Use an address that is a multiple of the required alignment.",
        EspErrorCode.AddressOutOfRange => "Keep the address and length inside the flash or memory region.",
        EspErrorCode.FileNotFound => "Check the path; relative paths are resolved from the current directory.",
        EspErrorCode.FileEmpty => "Give a file that contains data.",
        EspErrorCode.FileTooLarge => "Use a smaller file, a larger flash, or a different address.",
        EspErrorCode.OverlappingRegions => "Move one of the images so that their address ranges do not overlap.",
        EspErrorCode.InvalidImage => "Give an ESP application image (it starts with the magic byte 0xE9).",
        EspErrorCode.ImageChecksumMismatch => "The image is damaged; rebuild it.",
        EspErrorCode.InvalidIntelHex => "The Intel HEX file is damaged; regenerate it.",
        EspErrorCode.InvalidElf => "Give a 32-bit little-endian ELF executable built for this chip.",
        EspErrorCode.InvalidPartitionTable => "Flash a valid partition table at 0x8000 or give the address explicitly.",
        EspErrorCode.InvalidStubFile => "Give a stub JSON file as esptool ships them (text, text_start, entry, data, data_start).",
        EspErrorCode.SegmentOverlapsStub => "Link the program at addresses outside the stub's RAM, or load it with --no-stub.",
        EspErrorCode.SegmentNotInRam => "load_ram can only load IRAM/DRAM segments; write flash-mapped code with write_flash.",
        EspErrorCode.InvalidSfdp => "The flash chip has no valid SFDP table.",
        EspErrorCode.UnknownChip => "Use one of: esp8266, esp32, esp32s2, esp32s3, esp32c2, esp32c3, esp32c5, esp32c6, esp32c61, esp32h2, esp32p4, or auto.",
        EspErrorCode.ConfirmationRequired => "Non-volatile status writes can lock the flash for good; confirm explicitly (--yes or EspAllowNonVolatileStatusWrite=true).",
        EspErrorCode.InvalidResetSequence => "Write steps as D0/D1/R0/R1/U0,1/W0.1 separated by '|'.",
        EspErrorCode.InvalidVersionRange => "Write a version range such as [3.0,) or [1.0,3.99].",
        EspErrorCode.UnsupportedBuildHost => "Build with dotnet build (.NET 10 SDK or later), MSBuild 18 or later, or Visual Studio 2026 or later.",
        EspErrorCode.PortNotFound => "Check the port name (e.g. /dev/ttyUSB0, COM3, socket://host:port, sim:esp32).",
        EspErrorCode.PortBusy => "Close the other program that holds the port (a serial monitor, another flasher) and try again.",
        EspErrorCode.PortNotSpecified => "Set the port explicitly (EspPort, --port or ESPTOOL_PORT).",
        EspErrorCode.PortAmbiguous => "Several candidate ports were found; set the port explicitly (EspPort, --port or ESPTOOL_PORT).",
        EspErrorCode.LineControlUnsupported => "This port cannot drive DTR/RTS; put the chip in download mode by hand and use --before no-reset.",
        EspErrorCode.NoSyncReply => "Check the cable and port, hold BOOT (IO0) while pressing EN/RESET, or lower the baud rate.",
        EspErrorCode.Timeout => "Check the connection; for slow flash raise the timeout settings.",
        EspErrorCode.Disconnected => "Reconnect the board and try again.",
        EspErrorCode.ProtocolViolation => "The link is noisy or something else talks on the port; check the cable and lower the baud rate.",
        EspErrorCode.StubStartFailed => "Check that the stub file matches the chip, or run without a stub (--no-stub).",
        EspErrorCode.WrongBootMode => "The chip booted its application; hold BOOT (IO0) while resetting to enter download mode.",
        EspErrorCode.InvalidPortUri => "Use a device path, COMn, socket://host:port, rfc2217://host:port or sim:<chip>.",
        EspErrorCode.DuplicatePort => "List each board's port once.",
        EspErrorCode.ResumeChipChanged => "Connect the board that was being written to finish it, or run the deploy again to write this one.",
        EspErrorCode.BaudChangeFailed => "Use a lower baud rate (-b 115200 / EspBaud=115200); some USB-serial bridges do not carry the higher rates.",
        EspErrorCode.MonitorTimeout => "Check that the application prints the text, the baud rate (--baud), and that the chip was reset into the application (leave out --no-reset; on ports without DTR/RTS press EN/RESET).",
        EspErrorCode.StubNotRunning => "The chip reset (power, brown-out or watchdog) and lost the flasher stub; connect again to continue.",
        EspErrorCode.RomError => "The ROM loader refused the command; check addresses and sizes.",
        EspErrorCode.StubError => "The flasher stub refused the command; check addresses and sizes.",
        EspErrorCode.UnsupportedCommand => "This chip's loader does not support the command; try with or without the stub.",
        EspErrorCode.ChipMismatch => "Select the right chip (--chip / EspChip) or use auto detection.",
        EspErrorCode.SpiCommandTimeout => "The SPI flash did not answer; check the flash connection and power.",
        EspErrorCode.SecureDownloadMode => "Secure Download Mode only allows plain flash writes; use the commands it permits.",
        EspErrorCode.FlashEncrypted => "Flash encryption is enabled; write pre-encrypted images with the encrypt option instead.",
        EspErrorCode.BoardMacMismatch => "Check which board is on which port, or correct the expected MAC.",
        EspErrorCode.VerifyMismatch => "The flash differs from the file; write it again.",
        EspErrorCode.WriteVerifyFailed => "The data did not arrive intact; check the cable, lower the baud rate and write again.",
        EspErrorCode.FlashWriteProtected => "Clear the block-protect bits in the flash status register (write_flash_status) and try again.",
        EspErrorCode.ImageTooLargeForPartition => "Make the image smaller or enlarge the partition.",
        EspErrorCode.ImageTooLargeForFlash => "Use a smaller image or a chip with a larger flash.",
        EspErrorCode.AssemblyImageMissing => "Build on Windows with the nanoFramework tool chain (or deploy its .bin) to include the application's own assembly.",
        EspErrorCode.FlashSizeNotDetected => "The image's own flash size was kept; give the size explicitly (EspFlashSize=4MB / --flash-size 4MB) to set it.",
        EspErrorCode.NoDeployPartition => "Flash a partition table with a deploy partition (data, subtype 0x84) or set EspDeployAddress.",
        EspErrorCode.ImageChipMismatch => "Build the image for the connected chip, or override with EspForce=true / --force.",
        EspErrorCode.ChipRevisionOutOfRange => "Use a chip of a supported revision or rebuild for this revision; override with EspForce=true / --force.",
        EspErrorCode.ImageFlashSizeTooLarge => "Rebuild the image for the detected flash size; override with EspForce=true / --force.",
        EspErrorCode.ImagePartitionOverflow => "Make the image fit its partition; override with EspForce=true / --force.",
        EspErrorCode.ImagePartitionOverlap => "Move the image to its own partition; override with EspForce=true / --force.",
        EspErrorCode.SegmentOutsideMemoryMap => "Rebuild the image for this chip; override with EspForce=true / --force.",
        EspErrorCode.Cancelled => "The operation was cancelled; run it again to finish.",
        _ => "See the documentation for this error code.",
    };
}
