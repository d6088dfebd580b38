using System.Buffers.Binary;

namespace Esp.Simulator;

/// <summary>
/// What the ROM loader's and the flasher stubs' commands have in common: the chip they act on, the download state
/// they share, and the work both do the same way (register writes, RAM downloads, security info, hashing time).
/// </summary>
internal abstract class CommandSet
{
    protected readonly ChipProfile Profile;
    protected readonly VirtualChipOptions Options;
    protected readonly MemoryBus Bus;
    protected readonly SimFlash Flash;
    protected readonly IBootloaderHost Host;
    protected readonly DownloadState Download;

    protected CommandSet(ChipProfile profile, VirtualChipOptions options, MemoryBus bus, SimFlash flash, IBootloaderHost host, DownloadState download)
    {
        Profile = profile; Options = options; Bus = bus; Flash = flash; Host = host; Download = download;
    }

    protected bool SecureDownload => Options.SecureDownload && !Profile.IsEsp8266 && !Profile.IsEsp32;
    protected bool FlashEncryption => System.Numerics.BitOperations.PopCount((uint)Options.FlashCryptCnt) % 2 == 1;

    /// <summary>The <paramref name="i"/>-th little-endian word of a command's data.</summary>
    protected static uint W(ReadOnlySpan<byte> d, int i) => BinaryPrimitives.ReadUInt32LittleEndian(d.Slice(4 * i));

    protected static byte Checksum(ReadOnlySpan<byte> data)
    {
        byte c = 0xEF;
        foreach (var b in data) c ^= b;
        return c;
    }

    protected void WriteRegs(ReadOnlySpan<byte> data)
    {
        for (var i = 0; i + 16 <= data.Length; i += 16)
        {
            var rec = data.Slice(i, 16);
            uint addr = W(rec, 0), value = W(rec, 1), mask = W(rec, 2), delay = W(rec, 3);
            if (delay > 0) Host.Sleep(TimeSpan.FromTicks(delay * 10L));
            Bus.WriteMasked(addr, value, mask);
        }
    }

    protected byte[] SecurityInfo()
    {
        int len = Profile.SecurityInfoLength;
        var d = new byte[len];
        uint flags = Options.SecurityFlags | (SecureDownload ? 4u : 0u);
        BinaryPrimitives.WriteUInt32LittleEndian(d, flags);
        d[4] = (byte)Options.FlashCryptCnt;
        d[11] = 0x0C; // key purpose slot 7 as the C3/C6 ROMs report it
        if (len >= 20)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(12), (uint)(Profile.ImageChipId ?? 0));
            BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(16), (uint)Profile.SecurityApiVersion);
        }
        return d;
    }

    /// <summary>With flash timing on, an MD5 takes the time a chip needs to read and hash the range.</summary>
    protected void SpendHashTime(uint length, bool stub)
    {
        var t = Flash.Timing;
        if (!t.Enabled || length == 0) return;
        var perMiB = stub ? t.StubMd5PerMiB : t.RomMd5PerMiB;
        Host.Sleep(TimeSpan.FromTicks((long)(perMiB.Ticks * (length / 1048576.0))));
    }

    /// <summary>Stand-in for the chip's flash encryption: an address-keyed XOR, enough to make raw contents differ.</summary>
    protected static byte[] Encrypt(uint address, byte[] plain)
    {
        var r = new byte[plain.Length];
        for (var i = 0; i < plain.Length; i++)
        {
            uint a = address + (uint)i;
            r[i] = (byte)(plain[i] ^ (byte)((a * 2654435761u) >> 24) ^ 0x5A);
        }
        return r;
    }

    // ------------------------------------------------------------------ RAM download

    protected void MemBegin(ReadOnlySpan<byte> data)
    {
        FinishMemSegment();
        Download.MemSize = W(data, 0);
        Download.MemBlockSize = W(data, 2);
        Download.MemOffset = W(data, 3);
        Download.MemData = new MemoryStream();
        Download.MemMode = true;
    }

    protected void MemData(uint seq, ReadOnlySpan<byte> payload)
    {
        var at = Download.MemOffset + seq * Download.MemBlockSize;
        Bus.WriteBytes(at, payload);
        if (Download.MemData is { } mem)
        {
            mem.Position = seq * Download.MemBlockSize;
            mem.Write(payload);
        }
    }

    protected void FinishMemSegment()
    {
        if (Download.MemData is null) return;
        var seg = new LoadedSegment(Download.MemOffset, Download.MemData.ToArray());
        Download.SessionSegments.Add(seg);
        Host.RecordSegment(seg);
        Download.MemData = null;
        Download.MemMode = false;
    }

    /// <summary>A jump starts a stub when a segment of this session was loaded at a known stub text_start and holds the entry.</summary>
    protected StubKind? FindStub(uint entry)
    {
        foreach (var site in Profile.StubSites)
            foreach (var seg in Download.SessionSegments)
                if (seg.Address == site.TextStart && entry >= seg.Address && entry < seg.Address + (uint)seg.Data.Length)
                    return site.Kind;
        return null;
    }
}
