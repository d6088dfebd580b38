namespace Esp.Protocol.Commands;

/// <summary>Human sentences for the failure codes in the status bytes that end every ROM and stub reply.</summary>
public static class StatusCodes
{
    /// <summary>ROM reason codes: second status byte when the first is 1.</summary>
    public static string DescribeRom(byte error) => error switch
    {
        0x00 => "undefined error",
        0x01 => "invalid input parameter",
        0x02 => "the loader ran out of memory",
        0x03 => "the loader failed to send a message",
        0x04 => "the loader failed to receive a message",
        0x05 => "the command is unknown to this loader or not allowed (Secure Download Mode)",
        0x06 => "the command ran but its result was wrong",
        0x07 => "the data checksum did not match (the bytes were damaged on the way)",
        0x08 => "the flash write failed (read-back did not match)",
        0x09 => "the flash read failed",
        0x0A => "the flash read length is wrong",
        0x0B => "decompressing the data failed",
        0x0C => "the compressed data failed its Adler-32 check",
        0x0D => "bad parameters for compressed data",
        0x0E => "invalid RAM binary size",
        0x0F => "invalid RAM binary address",
        0x64 => "invalid parameter",
        0x65 => "invalid format",
        0x66 => "description too long",
        0x67 => "bad encoding description",
        0x69 => "insufficient storage",
        _ => $"unknown ROM error 0x{error:X2}",
    };

    /// <summary>Stub error codes: first status byte.</summary>
    public static string DescribeStub(byte code) => code switch
    {
        0xC0 => "the data length is wrong for this command",
        0xC1 => "the data checksum did not match (the bytes were damaged on the way)",
        0xC2 => "the block size is too large",
        0xC3 => "the stub does not know this command",
        0xC4 => "an SPI flash operation failed",
        0xC5 => "the flash could not be unlocked for writing",
        0xC6 => "data arrived without a preceding BEGIN command",
        0xC7 => "decompressing the data failed",
        0xC8 => "not enough data arrived before END",
        0xC9 => "more data arrived than announced",
        0xCA => "NAND program failed",
        0xCB => "NAND erase failed",
        0xFF => "the stub does not implement this command",
        0x32 => "the erase address is not 4 KiB aligned",
        0x33 => "the erase length is not a multiple of 4 KiB",
        0x34 => "the flash could not be unlocked for erasing",
        0x35 or 0x36 or 0x37 => "the flash erase failed",
        0x63 => "reading flash for the MD5 failed",
        _ => $"unknown stub error 0x{code:X2}",
    };
}
