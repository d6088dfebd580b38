namespace Esp.Simulator;

/// <summary>
/// The simulator's own SLIP framing (independent of Esp.Protocol on purpose).
/// Bytes seen outside a frame are handed to <see cref="SlipReader.OutOfFrame"/> and otherwise ignored,
/// which is what the ROM does with line noise between packets.
/// </summary>
internal static class SlipWriter
{
    public const byte End = 0xC0;
    public const byte Esc = 0xDB;
    public const byte EscEnd = 0xDC;
    public const byte EscEsc = 0xDD;

    public static byte[] Frame(ReadOnlySpan<byte> payload)
    {
        var buffer = new List<byte>(payload.Length + 8) { End };
        foreach (var b in payload)
        {
            if (b == End) { buffer.Add(Esc); buffer.Add(EscEnd); }
            else if (b == Esc) { buffer.Add(Esc); buffer.Add(EscEsc); }
            else buffer.Add(b);
        }
        buffer.Add(End);
        return buffer.ToArray();
    }
}

/// <summary>Incremental SLIP decoder used on the chip's receive side.</summary>
internal sealed class SlipReader
{
    private readonly List<byte> _frame = new();
    private bool _inFrame;
    private bool _escape;

    /// <summary>Number of bytes that arrived outside any frame (noise, not SLIP).</summary>
    public long OutOfFrame { get; private set; }

    /// <summary>Number of frames with an invalid escape sequence (dropped).</summary>
    public long BadEscapes { get; private set; }

    public bool InFrame => _inFrame;

    /// <summary>
    /// esp-flasher-stub's decoding: each delimiter alternately opens and closes a frame, and "C0 C0" is an empty frame
    /// that leaves the decoder waiting for the next opening delimiter. Once such a decoder has missed a delimiter it
    /// reads every later frame's closing delimiter as an opening one and loses each frame (it is out of step).
    /// The default (ROM-like) decoding treats the second delimiter of "C0 C0" as the next frame's start.
    /// </summary>
    public bool ToggleDelimiters { get; set; }

    public void Reset()
    {
        _frame.Clear();
        _inFrame = false;
        _escape = false;
    }

    /// <summary>Feeds one byte; returns a complete frame when one ends, otherwise null.</summary>
    public byte[]? Push(byte b)
    {
        if (!_inFrame)
        {
            if (b == SlipWriter.End)
            {
                _inFrame = true;
                _frame.Clear();
                _escape = false;
            }
            else
            {
                OutOfFrame++;
            }
            return null;
        }

        if (_escape)
        {
            _escape = false;
            if (b == SlipWriter.EscEnd) _frame.Add(SlipWriter.End);
            else if (b == SlipWriter.EscEsc) _frame.Add(SlipWriter.Esc);
            else
            {
                // Invalid escape: drop the frame; resynchronise on the next delimiter.
                BadEscapes++;
                _inFrame = b == SlipWriter.End;
                _frame.Clear();
            }
            return null;
        }

        if (b == SlipWriter.Esc) { _escape = true; return null; }
        if (b == SlipWriter.End)
        {
            if (_frame.Count == 0)
            {
                // "C0 C0": treat the second delimiter as the start of the next frame (an empty frame
                // carries nothing a loader could act on) — unless delimiters toggle.
                if (ToggleDelimiters) _inFrame = false;
                return null;
            }
            var result = _frame.ToArray();
            _frame.Clear();
            _inFrame = false;
            return result;
        }
        _frame.Add(b);
        return null;
    }
}
