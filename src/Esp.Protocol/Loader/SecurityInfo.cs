using System.Buffers.Binary;
using System.Numerics;

namespace Esp.Protocol.Loader;

/// <summary>The flag bits of GET_SECURITY_INFO, the same on every chip's ROM.</summary>
[Flags]
public enum SecurityFlags : uint
{
    None = 0,
    SecureBootEnabled = 1 << 0,
    SecureBootAggressiveRevoke = 1 << 1,
    SecureDownloadEnabled = 1 << 2,
    SecureBootKeyRevoke0 = 1 << 3,
    SecureBootKeyRevoke1 = 1 << 4,
    SecureBootKeyRevoke2 = 1 << 5,
    SoftDisableJtag = 1 << 6,
    HardDisableJtag = 1 << 7,
    DisableUsb = 1 << 8,
    DisableDownloadDcache = 1 << 9,
    DisableDownloadIcache = 1 << 10,
}

/// <summary>The answer to GET_SECURITY_INFO (0x14): flags, flash_crypt_cnt, key purposes, chip id, API version.</summary>
public sealed record SecurityInfo(uint Flags, byte FlashCryptCount, byte[] KeyPurposes, uint? ChipId, uint? ApiVersion)
{
    public SecurityFlags FlagBits => (SecurityFlags)Flags;
    public bool SecureBootEnabled => (Flags & 1) != 0;
    public bool SecureDownloadMode => (Flags & 4) != 0;
    /// <summary>Flash encryption is on when the counter has an odd number of bits set.</summary>
    public bool FlashEncryptionEnabled => BitOperations.PopCount(FlashCryptCount) % 2 == 1;

    /// <summary>The secure boot key slots (0-2) whose revoke bit is set.</summary>
    public IReadOnlyList<int> RevokedKeys =>
        [.. new[] { SecurityFlags.SecureBootKeyRevoke0, SecurityFlags.SecureBootKeyRevoke1, SecurityFlags.SecureBootKeyRevoke2 }
            .Select((flag, slot) => (flag, slot)).Where(k => FlagBits.HasFlag(k.flag)).Select(k => k.slot)];

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
