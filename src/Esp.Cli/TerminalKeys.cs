namespace Esp.Cli;

/// <summary>Keys from the terminal without blocking a thread for good: Console.ReadKey cannot be cancelled, so poll.</summary>
internal static class TerminalKeys
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    public static async Task<ConsoleKeyInfo> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (Console.KeyAvailable) return Console.ReadKey(intercept: true);
            await Task.Delay(Poll, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Ctrl+] (GS, 0x1D), the quit key of serial monitors since telnet.</summary>
    public static bool IsQuit(ConsoleKeyInfo key) =>
        key.KeyChar == '\x1d' || key.Key == ConsoleKey.Oem6 && key.Modifiers.HasFlag(ConsoleModifiers.Control);
}
