using Esp.Protocol.Errors;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;
using Esp.Protocol.Transport;

namespace Esp.Protocol.Farm;

/// <summary>How a farm run drives its boards.</summary>
public sealed record FarmOptions
{
    /// <summary>Boards worked on at once; 0 means all of them.</summary>
    public int MaxParallel { get; init; }

    /// <summary>Cancel the other boards when one fails (default: every board runs to its own end).</summary>
    public bool StopOnFirstError { get; init; }

    /// <summary>Each board reconnects and resumes on its own (<see cref="ResumableRun"/>).</summary>
    public ResumeOptions Resume { get; init; } = new();

    /// <summary>Receives a board's log lines (connect, resume).</summary>
    public Action<Board, string>? Log { get; init; }
}

/// <summary>A connected board, handed to the work of a farm run.</summary>
public sealed record BoardSession(Board Board, int Index, EspSession Session, ResumeAttempt Attempt);

/// <summary>
/// Runs the same work on many boards at once, each on its own connection with its own resume, and reports every
/// board's outcome: a failing board does not stop the others unless asked to, and never loses their results.
/// </summary>
public static class FarmRun
{
    public static async Task<IReadOnlyList<BoardResult<T>>> RunAsync<T>(IReadOnlyList<Board> boards, Func<Board, ConnectOptions> connectOptions,
        Func<BoardSession, CancellationToken, Task<T>> work, FarmOptions? options = null, Func<IReadOnlyList<SerialPortInfo>>? listPorts = null,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(boards);
        ArgumentNullException.ThrowIfNull(connectOptions);
        ArgumentNullException.ThrowIfNull(work);
        options ??= new FarmOptions();
        listPorts ??= PortDiscovery.List;
        Board.CheckDistinct(boards);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var results = new BoardResult<T>[boards.Count];
        await ListedOrder.RunAsync(boards.Count, options.MaxParallel, stop, async (i, token) =>
        {
            results[i] = await RunBoardAsync(boards[i], i, connectOptions, work, options, listPorts, token).ConfigureAwait(false);
            return results[i].Outcome == BoardOutcome.Failed && options.StopOnFirstError;
        }, i => results[i] = new BoardResult<T>(boards[i], BoardOutcome.NotStarted, default, null, TimeSpan.Zero)).ConfigureAwait(false);
        return results;
    }

    private static async Task<BoardResult<T>> RunBoardAsync<T>(Board board, int index, Func<Board, ConnectOptions> connectOptions,
        Func<BoardSession, CancellationToken, Task<T>> work, FarmOptions options, Func<IReadOnlyList<SerialPortInfo>> listPorts, CancellationToken ct)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        string? chipName = null, mac = null, usedPort = null;
        int resumes = 0;
        BoardResult<T> Result(BoardOutcome outcome, T? value, EspException? error) =>
            new(board, outcome, value, error, sw.Elapsed) { ChipName = chipName, Mac = mac, UsedPort = usedPort ?? board.Port, Resumes = resumes };
        try
        {
            var connect = connectOptions(board) with { Port = board.Port };
            if (board.Chip is not null) connect = connect with { Chip = board.Chip };
            var resume = options.Resume with { Log = options.Log is null ? null : line => options.Log(board, line) };
            var value = await ResumableRun.RunAsync(ResumableRun.ConnectorFor(connect, resume, listPorts), async (session, attempt, token) =>
            {
                chipName = session.Chip.Name;
                usedPort = session.Options.Port;
                resumes = attempt.Number - 1;
                if (!session.SecureDownloadMode)
                {
                    mac ??= await ChipInfo.ReadMacAsync(session, token).ConfigureAwait(false);
                    if (board.Mac is not null && !string.Equals(board.Mac, mac, StringComparison.OrdinalIgnoreCase))
                        throw new EspException(EspErrorCode.BoardMacMismatch,
                            $"The board '{board.Name}' should have MAC {board.Mac}, but the chip on {session.Options.Port} has {mac}.",
                            "Check which board is on which port, or correct the expected MAC.");
                }
                return await work(new BoardSession(board, index, session, attempt), token).ConfigureAwait(false);
            }, resume, ct).ConfigureAwait(false);
            return Result(BoardOutcome.Succeeded, value, null);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return Result(BoardOutcome.Cancelled, default, new EspException(EspErrorCode.Cancelled, $"The work on '{board.Name}' was cancelled."));
        }
        catch (EspException ex)
        {
            return Result(ex.Code == EspErrorCode.Cancelled && ct.IsCancellationRequested ? BoardOutcome.Cancelled : BoardOutcome.Failed, default, ex);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // One board's unexpected failure must not take the others' results with it.
            return Result(BoardOutcome.Failed, default, new EspException(EspErrorCode.Internal, $"The work on '{board.Name}' failed unexpectedly: {ex.Message}", inner: ex));
        }
    }
}
