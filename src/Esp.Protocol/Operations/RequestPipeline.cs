using Esp.Protocol.Commands;
using Esp.Protocol.Errors;
using Esp.Protocol.Loader;

namespace Esp.Protocol.Operations;

/// <summary>
/// Runs many independent requests of one kind (READ_REG, READ_FLASH_SLOW, SPI_FLASH_MD5) with up to a window of them
/// in flight. Replies carry nothing that names their request, so a lost one would shift every later reply onto the
/// wrong request: replies are therefore taken a whole window at a time, and a window that comes back short, damaged
/// or refused is dropped, the link drained, and the window run again one request at a time.
/// </summary>
public static class RequestPipeline
{
    /// <param name="count">How many requests.</param>
    /// <param name="build">The packet of request <c>i</c>.</param>
    /// <param name="window">Requests in flight (1 = lock-step, as esptool).</param>
    /// <param name="expectedDataLength">Reply data bytes before the status.</param>
    /// <param name="timeout">Reply timeout of request <c>i</c>.</param>
    /// <param name="accept">Receives each reply, in request order, once its window is complete.</param>
    public static async Task RunAsync(EspSession session, Opcode op, int count, Func<int, byte[]> build, int window,
        int expectedDataLength, Func<int, TimeSpan> timeout, Action<int, CommandReply> accept, CancellationToken ct)
    {
        window = Math.Max(1, window);
        var batch = new byte[window][];
        var replies = new CommandReply[window];
        for (int first = 0; first < count; first += window)
        {
            int n = Math.Min(window, count - first);
            if (n > 1 && await TryWindowAsync(session, op, first, n, build, batch, replies, expectedDataLength, timeout, ct).ConfigureAwait(false))
            {
                for (int i = 0; i < n; i++) accept(first + i, replies[i]);
                continue;
            }
            for (int i = first; i < first + n; i++)
                accept(i, await session.Commands.ExecutePacketAsync(build(i), timeout(i), expectedDataLength, ct).ConfigureAwait(false));
        }
    }

    private static async Task<bool> TryWindowAsync(EspSession session, Opcode op, int first, int n, Func<int, byte[]> build,
        byte[][] batch, CommandReply[] replies, int expectedDataLength, Func<int, TimeSpan> timeout, CancellationToken ct)
    {
        for (int i = 0; i < n; i++) batch[i] = build(first + i);
        try
        {
            await session.Link.SendManyAsync(new ArraySegment<byte[]>(batch, 0, n), ct).ConfigureAwait(false);
            for (int i = 0; i < n; i++)
                replies[i] = await session.Commands.ReadReplyAsync(op, timeout(first + i), expectedDataLength, ct).ConfigureAwait(false);
            return true;
        }
        catch (EspException ex) when (ex.Code is EspErrorCode.Timeout or EspErrorCode.RomError or EspErrorCode.StubError
            or EspErrorCode.UnsupportedCommand or EspErrorCode.ProtocolViolation)
        {
            // A request or its reply was lost or damaged (a garbled request is answered "invalid", which can look like
            // "unsupported"). Let every late reply of this window arrive and be dropped, then go one at a time; an error
            // that is real comes back again there.
            await session.Link.DrainAsync(TimeSpan.FromMilliseconds(100), ct).ConfigureAwait(false);
            return false;
        }
    }
}
