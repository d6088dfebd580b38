using System.Buffers.Binary;

namespace Esp.Protocol.Commands;

/// <summary>Builds request packets (unescaped; SLIP framing is applied by the link).</summary>
public static class Request
{
    public const int HeaderLength = 8;

    /// <summary>Builds <c>00 op size16 checksum32 data</c>.</summary>
    public static byte[] Build(Opcode op, ReadOnlySpan<byte> data, uint checksum = 0)
    {
        if (data.Length > ushort.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(data), "A request carries at most 65535 data bytes.");
        var packet = new byte[HeaderLength + data.Length];
        packet[0] = ProtocolConstants.DirectionRequest;
        packet[1] = (byte)op;
        BinaryPrimitives.WriteUInt16LittleEndian(packet.AsSpan(2), (ushort)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(packet.AsSpan(4), checksum);
        data.CopyTo(packet.AsSpan(HeaderLength));
        return packet;
    }

    /// <summary>Payload made of little-endian 32-bit words.</summary>
    public static byte[] Words(params uint[] words)
    {
        var data = new byte[words.Length * 4];
        for (int i = 0; i < words.Length; i++)
            BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(i * 4), words[i]);
        return data;
    }

    /// <summary>Length of the header in front of the data of a *_DATA request.</summary>
    public const int DataHeaderLength = 16;

    /// <summary>
    /// A *_DATA request: 16-byte header {length, sequence, 0, 0} followed by the data, with the XOR
    /// checksum of the data in the checksum field.
    /// </summary>
    public static byte[] BuildData(Opcode op, ReadOnlySpan<byte> data, uint sequence)
    {
        var packet = new byte[HeaderLength + DataHeaderLength + data.Length];
        data.CopyTo(packet.AsSpan(HeaderLength + DataHeaderLength));
        CompleteData(packet, op, data.Length, sequence);
        return packet;
    }

    /// <summary>
    /// Fills in the request and data headers of a *_DATA packet whose data (<paramref name="dataLength"/> bytes) is
    /// already in place after them; for senders that reuse packet buffers.
    /// </summary>
    public static void CompleteData(Span<byte> packet, Opcode op, int dataLength, uint sequence)
    {
        var data = packet.Slice(HeaderLength + DataHeaderLength, dataLength);
        packet[0] = ProtocolConstants.DirectionRequest;
        packet[1] = (byte)op;
        BinaryPrimitives.WriteUInt16LittleEndian(packet[2..], (ushort)(DataHeaderLength + dataLength));
        BinaryPrimitives.WriteUInt32LittleEndian(packet[4..], ProtocolConstants.Checksum(data));
        WriteDataHeader(packet[HeaderLength..], dataLength, sequence);
    }

    /// <summary>The 16-byte data header {length, sequence, 0, 0}.</summary>
    public static void WriteDataHeader(Span<byte> header, int dataLength, uint sequence)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)dataLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], sequence);
        BinaryPrimitives.WriteUInt64LittleEndian(header[8..], 0);
    }
}

/// <summary>A decoded response packet: <c>01 op size16 value32 data… status…</c>.</summary>
public readonly struct Response
{
    private readonly byte[] _packet;

    private Response(byte[] packet) => _packet = packet;

    /// <summary>Parses a frame; returns false when it is not a response (too short or direction ≠ 1).</summary>
    public static bool TryParse(ReadOnlySpan<byte> frame, out Response response)
    {
        response = default;
        if (frame.Length < 8 || frame[0] != ProtocolConstants.DirectionResponse) return false;
        response = new Response(frame.ToArray());
        return true;
    }

    public Opcode Opcode => (Opcode)_packet[1];
    public ushort SizeField => BinaryPrimitives.ReadUInt16LittleEndian(_packet.AsSpan(2));
    public uint Value => BinaryPrimitives.ReadUInt32LittleEndian(_packet.AsSpan(4));

    /// <summary>Everything after the 8-byte header (command data and status bytes).</summary>
    public ReadOnlySpan<byte> Data => _packet.AsSpan(8);

    public ReadOnlySpan<byte> Raw => _packet;
}
