namespace Esp.Protocol.Monitor;

/// <summary>Writes the chip's output as text lines, each optionally starting with the local time it arrived.</summary>
public sealed class TextWriterMonitorSink(TextWriter writer, bool timestamps = false) : IMonitorSink
{
    public void Text(MonitorText text)
    {
        if (timestamps && text.StartsLine) writer.Write(Timestamp(text.Time));
        writer.Write(text.Text);
        if (text.EndsLine) writer.WriteLine();
        writer.Flush();
    }

    /// <summary>The prefix of a timestamped line, e.g. <c>[14:03:07.123] </c>.</summary>
    public static string Timestamp(DateTimeOffset time) =>
        "[" + time.ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture) + "] ";
}

/// <summary>Copies the bytes exactly as received to a stream (a log file), flushed as they come.</summary>
public sealed class RawLogMonitorSink(Stream stream) : IMonitorSink
{
    public void Received(ReadOnlySpan<byte> data, DateTimeOffset time)
    {
        stream.Write(data);
        stream.Flush();
    }
}

/// <summary>Hands everything to several sinks in turn.</summary>
public sealed class CombinedMonitorSink(params IMonitorSink[] sinks) : IMonitorSink
{
    public void Received(ReadOnlySpan<byte> data, DateTimeOffset time)
    {
        foreach (var s in sinks) s.Received(data, time);
    }

    public void Text(MonitorText text)
    {
        foreach (var s in sinks) s.Text(text);
    }
}
