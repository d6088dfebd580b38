using Esp.Protocol.Loader;

namespace Esp.Protocol.Commands;

/// <summary>
/// How long a command's reply may take: the command timeout, a fixed time, or a time per megabyte of flash the chip
/// works through (never below the command timeout, never above the maximum; see <see cref="EspTimeouts"/>).
/// </summary>
public abstract record ReplyTimeout
{
    public abstract TimeSpan Resolve(EspTimeouts timeouts);

    /// <summary><see cref="EspTimeouts.Command"/>: a command that does no flash work.</summary>
    public static ReplyTimeout Command { get; } = new Named(t => t.Command);

    /// <summary>A whole-chip erase.</summary>
    public static ReplyTimeout ChipErase { get; } = new Named(t => t.ChipErase);

    /// <summary>MEM_END through the ROM loader, which may never answer once it jumps.</summary>
    public static ReplyTimeout MemEndRom { get; } = new Named(t => t.MemEndRom);

    public static ReplyTimeout Fixed(TimeSpan time) => new Named(_ => time);

    /// <summary>Hashing <paramref name="bytes"/> of flash.</summary>
    public static ReplyTimeout Md5Of(long bytes) => new Named(t => t.Scaled(t.Md5PerMegabyte, bytes));

    /// <summary>Erasing and writing <paramref name="bytes"/> of flash.</summary>
    public static ReplyTimeout EraseWriteOf(long bytes) => new Named(t => t.Scaled(t.EraseWritePerMegabyte, bytes));

    private sealed record Named(Func<EspTimeouts, TimeSpan> Rule) : ReplyTimeout
    {
        public override TimeSpan Resolve(EspTimeouts timeouts) => Rule(timeouts);
    }
}
