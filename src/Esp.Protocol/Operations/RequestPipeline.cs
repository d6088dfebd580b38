using Esp.Protocol.Commands;
using Esp.Protocol.Errors;
using Esp.Protocol.Loader;

namespace Esp.Protocol.Operations;

/// <summary>
/// Runs many independent commands of one kind (READ_REG, READ_FLASH_SLOW, SPI_FLASH_MD5) with up to a window of them
/// in flight. Replies carry nothing that names their request, so a lost one would shift every later reply onto the
/// wrong request: replies are therefore taken a whole window at a time, and a window that comes back short, damaged
/// or refused is dropped, the link drained, and the window run again one request at a time. A window is sent in one
/// write and the next only when all its replies are in (docs/fidelity.md: how the real loaders take them).
/// </summary>
public static class RequestPipeline
{
    /// <param name="count">How many commands.</param>
    /// <param name="build">Command <c>i</c>.</param>
    /// <param name="window">Commands in flight (1 = lock-step, as esptool).</param>
    /// <param name="accept">Receives each reply, in order, once its window is complete.</param>
    public static async Task RunAsync(EspSession session, int count, Func<int, Command> build, int window,
        Action<int, CommandReply> accept, CancellationToken ct)
    {
        window = Math.Max(1, window);
        var batch = new Command[window];
        var replies = new CommandReply[window];
        for (int first = 0; first < count; first += window)
        {
            int n = Math.Min(window, count - first);
            for (int i = 0; i < n; i++) batch[i] = build(first + i);
            if (n > 1 && await TryWindowAsync(session, batch, n, replies, ct).ConfigureAwait(false))
            {
                for (int i = 0; i < n; i++) accept(first + i, replies[i]);
                continue;
            }
            for (int i = 0; i < n; i++)
                accept(first + i, await session.ExecuteAsync(batch[i], ct).ConfigureAwait(false));
        }
    }

    private static async Task<bool> TryWindowAsync(EspSession session, Command[] batch, int n, CommandReply[] replies, CancellationToken ct)
    {
        try
        {
            await session.Link.SendManyAsync(batch.Take(n).Select(c => c.ToPacket()).ToArray(), ct).ConfigureAwait(false);
            for (int i = 0; i < n; i++)
                replies[i] = await session.Commands.ReadReplyAsync(batch[i], ct).ConfigureAwait(false);
            return true;
        }
        catch (EspException ex) when (ex.Code is EspErrorCode.Timeout or EspErrorCode.RomError or EspErrorCode.StubError
            or EspErrorCode.UnsupportedCommand or EspErrorCode.ProtocolViolation)
        {
            // A request or its reply was lost or damaged (a garbled request is answered "invalid", which can look like
            // "unsupported"). Replies of this window may still come: the next command first sets a barrier behind them.
            // Then one at a time; an error that is real comes back again there.
            session.Commands.ExpectLateReplies();
            return false;
        }
    }
}
