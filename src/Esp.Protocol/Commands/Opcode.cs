namespace Esp.Protocol.Commands;

/// <summary>Loader opcodes (esptool's numbering): the second byte of every request and reply.</summary>
public enum Opcode : byte
{
    FlashBegin = 0x02,
    FlashData = 0x03,
    FlashEnd = 0x04,
    MemBegin = 0x05,
    MemEnd = 0x06,
    MemData = 0x07,
    Sync = 0x08,
    WriteReg = 0x09,
    ReadReg = 0x0A,
    SpiSetParams = 0x0B,
    SpiAttach = 0x0D,
    ReadFlashSlow = 0x0E,
    ChangeBaudrate = 0x0F,
    FlashDeflBegin = 0x10,
    FlashDeflData = 0x11,
    FlashDeflEnd = 0x12,
    SpiFlashMd5 = 0x13,
    GetSecurityInfo = 0x14,

    // Stub-only commands.
    EraseFlash = 0xD0,
    EraseRegion = 0xD1,
    ReadFlash = 0xD2,
    RunUserCode = 0xD3,
    FlashEncryptData = 0xD4,
}

/// <summary>Fixed protocol constants.</summary>
public static class ProtocolConstants
{
    public const byte DirectionRequest = 0x00;
    public const byte DirectionResponse = 0x01;
    public const byte ChecksumSeed = 0xEF;
    public const int RamBlockSize = 0x1800;
    public const int RomFlashBlockSize = 0x400;
    public const int StubFlashBlockSize = 0x4000;
    public const int FlashSectorSize = 0x1000;
    public const int FlashBlockSize = 0x10000;
    public const int ReadFlashPacketSize = 0x1000;
    /// <summary>Data block size (RAM and flash) through the chip's USB-OTG port.</summary>
    public const int UsbOtgBlockSize = 0x800;
    public const int RomDefaultBaud = 115200;
    public const uint ChipDetectMagicRegister = 0x40001000;

    /// <summary>The 36-byte SYNC payload: 07 07 12 20 followed by 32 × 0x55.</summary>
    public static ReadOnlySpan<byte> SyncPayload =>
    [
        0x07, 0x07, 0x12, 0x20,
        0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
        0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
    ];

    /// <summary>The stub's greeting after it starts.</summary>
    public static ReadOnlySpan<byte> StubGreeting => "OHAI"u8;

    /// <summary>XOR checksum with seed 0xEF, as used by *_DATA commands and image footers.</summary>
    public static byte Checksum(ReadOnlySpan<byte> data, byte seed = ChecksumSeed)
    {
        // XOR 8 bytes at a time, then fold; the order of XOR does not matter.
        ulong acc = 0;
        int i = 0;
        for (; i + 8 <= data.Length; i += 8)
            acc ^= System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(data[i..]);
        acc ^= acc >> 32;
        acc ^= acc >> 16;
        acc ^= acc >> 8;
        byte c = (byte)(seed ^ (byte)acc);
        for (; i < data.Length; i++) c ^= data[i];
        return c;
    }
}
