using System.Buffers.Binary;
using System.Numerics;

namespace Esp.Protocol.Loader;

/// <summary>The answer to GET_SECURITY_INFO (0x14): flags, flash_crypt_cnt, key purposes, chip id, API version.</summary>
public sealed record SecurityInfo(uint Flags, byte FlashCryptCount, byte[] KeyPurposes, uint? ChipId, uint? ApiVersion)
{
    public bool SecureBootEnabled => (Flags & 1) != 0;
    public bool SecureDownloadMode => (Flags & 4) != 0;
    /// <summary>Flash encryption is on when the counter has an odd number of bits set.</summary>
    public bool FlashEncryptionEnabled => BitOperations.PopCount(FlashCryptCount) % 2 == 1;

    public static SecurityInfo Parse(ReadOnlySpan<byte> data)
    {
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(data);
        byte crypt = data[4];
        var purposes = data.Slice(5, 7).ToArray();
        uint? chipId = data.Length >= 20 ? BinaryPrimitives.ReadUInt32LittleEndian(data[12..]) : null;
        uint? api = data.Length >= 20 ? BinaryPrimitives.ReadUInt32LittleEndian(data[16..]) : null;
        return new SecurityInfo(flags, crypt, purposes, chipId, api);
    }
}
