using Esp.Protocol.Commands;
using Esp.Protocol.Framing;

namespace Esp.Protocol.Tests.Framing;

/// <summary>Worked byte examples of loader requests and replies (ROM and stub framing), checked byte for byte.</summary>
public class WorkedExamplesTests
{
    private static byte[] Hex(string s) => Convert.FromHexString(s.Replace(" ", ""));

    [Fact]
    public void ReadRegRequest()
    {
        var packet = Request.Build(Opcode.ReadReg, Request.Words(0x3FF5A004));
        Assert.Equal(Hex("00 0A 04 00 00 00 00 00 04 A0 F5 3F"), packet);
    }

    [Fact]
    public void Esp32RomReadRegReplyParses()
    {
        Assert.True(Response.TryParse(Hex("01 0A 04 00 83 1D F0 00 00 00 00 00"), out var r));
        Assert.Equal(Opcode.ReadReg, r.Opcode);
        Assert.Equal(0x00F01D83u, r.Value);
        Assert.Equal(4, r.Data.Length);
    }

    [Fact]
    public void StubReadRegReplyParses()
    {
        Assert.True(Response.TryParse(Hex("01 0A 02 00 78 56 34 12 00 00"), out var r));
        Assert.Equal(0x12345678u, r.Value);
        Assert.Equal(2, r.Data.Length);
    }

    [Fact]
    public void WriteRegFullMask()
    {
        var packet = Request.Build(Opcode.WriteReg, Request.Words(0x600080A8, 0x50D83AA1, 0xFFFFFFFF, 0));
        Assert.Equal(Hex("00 09 10 00 00 00 00 00 A8 80 00 60 A1 3A D8 50 FF FF FF FF 00 00 00 00"), packet);
    }

    [Fact]
    public void MemDataWithChecksum()
    {
        var packet = Request.BuildData(Opcode.MemData, Hex("DE AD BE EF"), 0);
        Assert.Equal(Hex("00 07 14 00 CD 00 00 00 04 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 DE AD BE EF"), packet);
    }

    [Fact]
    public void StubGreetingOnTheWire() =>
        Assert.Equal(Hex("C0 4F 48 41 49 C0"), Slip.Encode(ProtocolConstants.StubGreeting));

    [Fact]
    public void ReadFlashAckOnTheWire() =>
        Assert.Equal(Hex("C0 00 10 00 00 C0"), Slip.Encode(Request.Words(4096)));

    [Fact]
    public void AckWithEscapedValue() =>
        Assert.Equal(Hex("C0 DB DC 00 00 00 C0"), Slip.Encode(Request.Words(0xC0)));

    [Fact]
    public void SyncFrameIs46BytesOnTheWire()
    {
        var wire = Slip.Encode(Request.Build(Opcode.Sync, ProtocolConstants.SyncPayload));
        Assert.Equal(46, wire.Length);
        Assert.Equal(Hex("C0 00 08 24 00 00 00 00 00 07 07 12 20"), wire[..13]);
        Assert.All(wire[13..45], b => Assert.Equal(0x55, b));
        Assert.Equal(0xC0, wire[45]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("C0")]
    [InlineData("DB")]
    [InlineData("C0 DB DC DD 00 C0 C0")]
    [InlineData("01 02 03 04 05 06 07 08 09")]
    public void DecoderRoundTripsEncoder(string hex)
    {
        var payload = Hex(hex);
        var decoder = new SlipDecoder();
        byte[]? got = null;
        foreach (var b in Slip.Encode(payload))
            if (decoder.Push(b) == SlipEvent.Frame && (got is null || got.Length == 0)) got = decoder.Frame.ToArray();
        Assert.NotNull(got);
        Assert.Equal(payload, got);
    }

    [Fact]
    public void DecoderReportsBadEscapeAndRecovers()
    {
        var decoder = new SlipDecoder();
        var events = Hex("C0 01 DB 00 C0 02 03 C0").Select(decoder.Push).ToList();
        Assert.Contains(SlipEvent.BadEscape, events);
        Assert.Equal(SlipEvent.Frame, events[^1]);
        Assert.Equal(Hex("02 03"), decoder.Frame.ToArray());
    }

    [Fact]
    public void DecoderReportsTextOutsideFrames()
    {
        var decoder = new SlipDecoder();
        Assert.Equal(SlipEvent.OutOfFrame, decoder.Push((byte)'e'));
        Assert.Equal((byte)'e', decoder.OutOfFrameByte);
    }

    [Theory]
    [InlineData(new byte[0], 0xEF)]
    [InlineData(new byte[] { 0xDE, 0xAD, 0xBE, 0xEF }, 0xCD)]
    public void ChecksumMatchesDefinition(byte[] data, byte expected) =>
        Assert.Equal(expected, ProtocolConstants.Checksum(data));

    [Fact]
    public void ChecksumOfLongDataMatchesBytewiseXor()
    {
        var data = new byte[1027];
        new Random(7).NextBytes(data);
        byte c = 0xEF;
        foreach (var b in data) c ^= b;
        Assert.Equal(c, ProtocolConstants.Checksum(data));
    }
}
