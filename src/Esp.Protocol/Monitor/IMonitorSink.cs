namespace Esp.Protocol.Monitor;

/// <summary>
/// A piece of the chip's output as text. Lines arrive in pieces as the bytes do: a piece with
/// <see cref="StartsLine"/> begins a new line, one with <see cref="EndsLine"/> completes it (the line ending itself is
/// not part of <see cref="Text"/>).
/// </summary>
/// <param name="Time">When the bytes of this piece arrived.</param>
/// <param name="Text">UTF-8 text; bytes that are not text (invalid UTF-8, control characters) appear as <c>\xNN</c>.</param>
public readonly record struct MonitorText(DateTimeOffset Time, string Text, bool StartsLine, bool EndsLine);

/// <summary>Where <see cref="SerialMonitor"/> delivers the chip's output: raw bytes, decoded text, or both.</summary>
public interface IMonitorSink
{
    /// <summary>The bytes exactly as received.</summary>
    void Received(ReadOnlySpan<byte> data, DateTimeOffset time)
    {
    }

    /// <summary>The same bytes as text, in line pieces.</summary>
    void Text(MonitorText text)
    {
    }
}
