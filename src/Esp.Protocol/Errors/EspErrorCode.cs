namespace Esp.Protocol.Errors;

/// <summary>
/// Stable error codes. The number is shown as <c>ESPnnnn</c> in MSBuild and the CLI and never changes
/// meaning once released; add new codes, never renumber.
/// </summary>
public enum EspErrorCode
{
    // 1xxx: bad input from the user (arguments, files, images).
    InvalidArgument = 1001,
    InvalidNumber = 1002,
    UnalignedAddress = 1003,
    AddressOutOfRange = 1004,
    FileNotFound = 1005,
    FileEmpty = 1006,
    FileTooLarge = 1007,
    OverlappingRegions = 1008,
    InvalidImage = 1010,
    ImageChecksumMismatch = 1011,
    InvalidIntelHex = 1012,
    InvalidElf = 1013,
    InvalidPartitionTable = 1014,
    InvalidStubFile = 1015,
    SegmentOverlapsStub = 1016,
    SegmentNotInRam = 1017,
    InvalidSfdp = 1018,
    UnknownChip = 1019,
    ConfirmationRequired = 1020,
    InvalidResetSequence = 1021,
    InvalidVersionRange = 1022,
    DuplicatePort = 1023,

    // 11xx: the build host (MSBuild) cannot run the tasks.
    UnsupportedBuildHost = 1101,

    // 2xxx: the link to the chip.
    PortNotFound = 2001,
    PortBusy = 2002,
    PortNotSpecified = 2003,
    PortAmbiguous = 2004,
    LineControlUnsupported = 2005,
    NoSyncReply = 2006,
    Timeout = 2007,
    Disconnected = 2008,
    ProtocolViolation = 2009,
    StubStartFailed = 2010,
    WrongBootMode = 2011,
    InvalidPortUri = 2012,
    StubNotRunning = 2013,
    BaudChangeFailed = 2014,
    ResumeChipChanged = 2015,
    /// <summary>The serial monitor's awaited text did not appear before its timeout.</summary>
    MonitorTimeout = 2016,

    // 3xxx: the chip answered, but with an error.
    RomError = 3001,
    StubError = 3002,
    UnsupportedCommand = 3003,
    ChipMismatch = 3004,
    SpiCommandTimeout = 3005,
    SecureDownloadMode = 3006,
    FlashEncrypted = 3007,
    BoardMacMismatch = 3008,

    // 4xxx: flash contents.
    VerifyMismatch = 4001,
    WriteVerifyFailed = 4002,
    FlashWriteProtected = 4003,
    ImageTooLargeForPartition = 4004,
    ImageTooLargeForFlash = 4005,
    NoDeployPartition = 4006,
    /// <summary>Warning: an assembly's nanoFramework .pe could not be produced, so it is not deployed.</summary>
    AssemblyImageMissing = 4100,
    /// <summary>Warning: EspFlashSize=detect (--flash-size detect) was asked, but the chip's flash size is unknown.</summary>
    FlashSizeNotDetected = 4101,

    // 5xxx: deploy guards.
    ImageChipMismatch = 5001,
    ChipRevisionOutOfRange = 5002,
    ImageFlashSizeTooLarge = 5003,
    ImagePartitionOverflow = 5004,
    ImagePartitionOverlap = 5005,
    SegmentOutsideMemoryMap = 5006,

    // 9xxx: cancellation and internal failures.
    Cancelled = 9001,
    Internal = 9999,
}
