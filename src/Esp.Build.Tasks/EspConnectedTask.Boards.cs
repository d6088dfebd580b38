using System.Diagnostics;
using Esp.Protocol.Errors;
using Esp.Protocol.Farm;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;
using Microsoft.Build.Framework;

namespace Esp.Build.Tasks;

/// <summary>One board's work in a run on several boards: called again on a fresh session when the board resumes.</summary>
internal delegate Task<BoardReport> BoardWork(EspSession session, ResumeAttempt attempt, CancellationToken ct);

// Several boards at once: EspPort with a ';' list or "all", or EspBoard items. Each board runs on its own connection
// with its own resume (Esp.Protocol.Farm); the task reports a table, an item per board and one error per failed board.
public abstract partial class EspConnectedTask
{
    /// <summary>
    /// EspBoard items: the item is the board's port; metadata <c>Name</c> (the board's name in the table: MSBuild keeps
    /// the attribute Label for itself), <c>Chip</c> (the chip it must be) and
    /// <c>Mac</c> (the factory MAC it must have: a board on the wrong port fails with ESP3008).
    /// </summary>
    public ITaskItem[] Boards { get; set; } = [];

    /// <summary>Boards worked on at once (EspMaxParallel; 0 or empty: all of them).</summary>
    public int MaxParallel { get; set; }

    /// <summary>Stop the other boards when one fails (EspStopOnFirstError; default: every board runs to its end).</summary>
    public bool StopOnFirstError { get; set; }

    /// <summary>
    /// One item per board (several boards only): the board's name, with Port, Chip, Mac, Outcome (Succeeded, Failed,
    /// Cancelled, NotStarted), Result, BytesWritten, Verified, Resumes, ElapsedMs, ErrorCode, Error and the task's own.
    /// </summary>
    [Output] public ITaskItem[] BoardResults { get; private set; } = [];

    /// <summary>The task can run on several boards (<see cref="CreateBoardWork"/>).</summary>
    private protected virtual bool CanRunOnManyBoards => false;

    /// <summary>Where the summary of a run on several boards goes (one record per board), if anywhere.</summary>
    private protected virtual string? BoardsSummaryFile => null;

    /// <summary>The task ran on several boards (its single-board outputs are then not set).</summary>
    protected bool OnManyBoards { get; private set; }

    /// <summary>The work for one board: a fresh one per board, so boards share nothing but the compressed payloads.</summary>
    private protected virtual BoardWork CreateBoardWork(Board board, string prefix, CompressionCache compression) =>
        throw new NotSupportedException($"{GetType().Name} works on one board.");

    /// <summary>The boards when more than one is named (or EspBoard items are given); null for a single port.</summary>
    private IReadOnlyList<Board>? ManyBoards(EsptoolEnvironment env)
    {
        if (Boards.Length > 0)
        {
            var items = Boards.Select(i => new Board(i.ItemSpec.Trim())
            {
                Label = NonEmpty(i.GetMetadata("Name")),
                Chip = NonEmpty(i.GetMetadata("Chip")),
                Mac = NonEmpty(i.GetMetadata("Mac")),
            }).ToList();
            Board.CheckDistinct(items);
            return items;
        }
        var port = NonEmpty(Port) ?? env.Port ?? NonEmpty(DefaultPort);
        if (port is null || !(port.Contains(';') || port.Equals(Board.AllPorts, StringComparison.OrdinalIgnoreCase))) return null;
        var boards = Board.FromPorts([port], ListPorts);
        if (boards.Count > 1) return boards;
        // One board after all (a list of one, or a single bridge for "all"): the single-board path, with that port.
        Port = boards[0].Port;
        return null;
    }

    private async Task RunOnBoardsAsync(IReadOnlyList<Board> boards, EsptoolEnvironment env, CancellationToken ct)
    {
        if (!CanRunOnManyBoards)
            throw new EspSettingException(EspErrorCode.InvalidArgument, Boards.Length > 0 ? "EspBoard" : "EspPort", Port,
                $"{GetType().Name} works on one board, but {boards.Count} boards are named ({string.Join(", ", boards.Select(b => b.Name))}).",
                "Deploy (EspDeploy) runs on several boards at once; for this target name one port.");
        OnManyBoards = true;
        var template = BuildOptions(env, boards[0].Port);
        int parallel = MaxParallel > 0 ? Math.Min(MaxParallel, boards.Count) : boards.Count;
        Log.LogMessage(MessageImportance.High, "Esp.Build: {0} boards, {1} at a time: {2}.", boards.Count, parallel, string.Join(", ", boards.Select(BoardTable.Name)));
        using var compression = new CompressionCache();
        var works = new BoardWork?[boards.Count];
        var clock = Stopwatch.StartNew();
        var results = await FarmRun.RunAsync(boards, b => template with { Log = line => Log.LogMessage(MessageImportance.Low, "[{0}] {1}", b.Name, line) },
            async (b, token) =>
            {
                string prefix = $"[{BoardTable.Name(b.Board)}] ";
                Log.LogMessage(MessageImportance.High, "Esp.Build: {0}{1} {2} on {3}, {4}.", prefix, b.Attempt.IsResume ? "reconnected to" : "connected to",
                    b.Session.Chip.Name, b.Session.Options.Port, b.Session.Loader.Kind == LoaderKind.FlasherStub ? "running the flasher stub" : "using the ROM loader");
                // Kept across the board's resumes, as the single-board task keeps its state.
                var work = works[b.Index] ??= CreateBoardWork(b.Board, prefix, compression);
                return await work(b.Session, b.Attempt, token).ConfigureAwait(false);
            },
            new FarmOptions
            {
                MaxParallel = MaxParallel,
                StopOnFirstError = StopOnFirstError,
                Resume = ResumeSettings(_ => { }),
                Log = (b, line) => Log.LogMessage(MessageImportance.High, "Esp.Build: [{0}] {1}", BoardTable.Name(b), line),
            }, ListPorts, ct).ConfigureAwait(false);
        clock.Stop();

        foreach (var line in BoardTable.Lines(results, clock.Elapsed)) Log.LogMessage(MessageImportance.High, "{0}", line);
        BoardResults = [.. results.Select(BoardTable.Item)];
        if (BoardsSummaryFile is { } file) BoardSummary.Write(file, results, clock.Elapsed);
        foreach (var r in results.Where(r => r.Outcome == BoardOutcome.Failed))
        {
            var ex = r.Error!;
            string port = r.UsedPort ?? r.Board.Port;
            string board = BoardTable.Name(r.Board) == port || r.Board.Label is null ? BoardTable.Name(r.Board) : $"{r.Board.Label} ({port})";
            LogEspError(new EspException(ex.Code, $"Board {board}: {ex.Message}", ex.Help));
        }
        if (ct.IsCancellationRequested)
            LogEspError(new EspException(EspErrorCode.Cancelled, $"{GetType().Name} was cancelled: the table above says where each board stopped.",
                "Run it again to finish: each board rewrites only what differs."));
    }
}
