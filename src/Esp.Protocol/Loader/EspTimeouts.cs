namespace Esp.Protocol.Loader;

/// <summary>
/// Timeouts, with esptool's defaults. "Per MB" values scale with decimal megabytes and never go below
/// <see cref="Command"/>; nothing exceeds <see cref="Max"/>.
/// </summary>
public sealed record EspTimeouts
{
    public TimeSpan Command { get; init; } = TimeSpan.FromSeconds(3);
    public TimeSpan Sync { get; init; } = TimeSpan.FromMilliseconds(100);
    public TimeSpan Md5PerMegabyte { get; init; } = TimeSpan.FromSeconds(8);
    public TimeSpan EraseWritePerMegabyte { get; init; } = TimeSpan.FromSeconds(40);
    public TimeSpan ChipErase { get; init; } = TimeSpan.FromSeconds(120);
    public TimeSpan MemEndRom { get; init; } = TimeSpan.FromMilliseconds(200);
    public TimeSpan Max { get; init; } = TimeSpan.FromSeconds(240);

    public static EspTimeouts Default { get; } = new();

    /// <summary>max(Command, perMb × bytes / 1e6), capped at Max.</summary>
    public TimeSpan Scaled(TimeSpan perMegabyte, long bytes)
    {
        var t = TimeSpan.FromTicks((long)(perMegabyte.Ticks * (bytes / 1e6)));
        if (t < Command) t = Command;
        return t > Max ? Max : t;
    }
}
