using System.Buffers;

namespace Esp.Protocol.Framing;

/// <summary>SLIP constants (RFC 1055 as used by the ESP loaders).</summary>
public static class Slip
{
    public const byte End = 0xC0;
    public const byte Esc = 0xDB;
    public const byte EscEnd = 0xDC;
    public const byte EscEsc = 0xDD;

    /// <summary>Worst case encoded size: every byte escaped, plus two delimiters.</summary>
    public static int MaxEncodedLength(int payloadLength) => payloadLength * 2 + 2;

    /// <summary>Encodes one frame (delimiter, escaped payload, delimiter) into <paramref name="destination"/>.</summary>
    /// <returns>Bytes written.</returns>
    public static int Encode(ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        int o = 0;
        destination[o++] = End;
        while (!payload.IsEmpty)
        {
            // Copy runs of bytes that need no escaping in bulk; they are the common case.
            int run = payload.IndexOfAny(End, Esc);
            if (run < 0) run = payload.Length;
            payload[..run].CopyTo(destination[o..]);
            o += run;
            if (run == payload.Length) break;
            destination[o++] = Esc;
            destination[o++] = payload[run] == End ? EscEnd : EscEsc;
            payload = payload[(run + 1)..];
        }
        destination[o++] = End;
        return o;
    }

    /// <summary>Encodes one frame into a new array.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> payload)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(MaxEncodedLength(payload.Length));
        try
        {
            int n = Encode(payload, buffer);
            return buffer.AsSpan(0, n).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>What a <see cref="SlipDecoder"/> found in the byte stream.</summary>
public enum SlipEvent
{
    /// <summary>More bytes are needed.</summary>
    None,
    /// <summary>A complete frame is available in <see cref="SlipDecoder.Frame"/>.</summary>
    Frame,
    /// <summary>A byte arrived outside any frame (boot log text, noise). It is in <see cref="SlipDecoder.OutOfFrameByte"/>.</summary>
    OutOfFrame,
    /// <summary>An escape byte was followed by something other than DC/DD; the frame was dropped.</summary>
    BadEscape,
}

/// <summary>
/// Streaming SLIP decoder. Feed it bytes one at a time (or a span) and it reports frames as they complete.
/// It never allocates per byte; frame bytes accumulate in a growable buffer that is reused.
/// </summary>
public sealed class SlipDecoder
{
    private byte[] _buffer;
    private int _length;
    private bool _inFrame;
    private bool _escape;
    private readonly int _maxFrame;

    public SlipDecoder(int initialCapacity = 512, int maxFrameLength = 1 << 20)
    {
        _buffer = new byte[initialCapacity];
        _maxFrame = maxFrameLength;
    }

    /// <summary>The last completed frame; valid until the next call to <see cref="Push"/>.</summary>
    public ReadOnlySpan<byte> Frame => _buffer.AsSpan(0, _frameLength);
    private int _frameLength;

    public byte OutOfFrameByte { get; private set; }

    /// <summary>True while inside a frame (a start delimiter was seen, the end not yet).</summary>
    public bool InFrame => _inFrame;

    public void Reset()
    {
        _length = 0;
        _frameLength = 0;
        _inFrame = false;
        _escape = false;
    }

    /// <summary>Consumes one byte.</summary>
    public SlipEvent Push(byte b)
    {
        if (!_inFrame)
        {
            if (b == Slip.End)
            {
                _inFrame = true;
                _length = 0;
                _escape = false;
                return SlipEvent.None;
            }
            OutOfFrameByte = b;
            return SlipEvent.OutOfFrame;
        }

        if (_escape)
        {
            _escape = false;
            if (b == Slip.EscEnd) b = Slip.End;
            else if (b == Slip.EscEsc) b = Slip.Esc;
            else
            {
                // Drop the damaged frame; a C0 here also starts the next frame.
                _inFrame = b == Slip.End;
                _length = 0;
                return SlipEvent.BadEscape;
            }
            Append(b);
            return SlipEvent.None;
        }

        if (b == Slip.End)
        {
            if (_length == 0)
            {
                // "C0 C0": an empty frame. The ROM sends one after CHANGE_BAUDRATE; report it as a frame of
                // length zero but stay in frame state, because the second C0 may equally open the next frame.
                _frameLength = 0;
                return SlipEvent.Frame;
            }
            _frameLength = _length;
            _length = 0;
            _inFrame = false;
            return SlipEvent.Frame;
        }
        if (b == Slip.Esc)
        {
            _escape = true;
            return SlipEvent.None;
        }
        Append(b);
        return SlipEvent.None;
    }

    private void Append(byte b)
    {
        if (_length == _buffer.Length)
        {
            if (_buffer.Length >= _maxFrame)
            {
                // A runaway frame is noise, not data: start over rather than grow without bound.
                _length = 0;
                return;
            }
            Array.Resize(ref _buffer, Math.Min(_buffer.Length * 2, _maxFrame));
        }
        _buffer[_length++] = b;
    }
}
