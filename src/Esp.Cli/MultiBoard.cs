using System.Diagnostics;
using System.Text.Json.Nodes;
using Esp.Protocol.Errors;
using Esp.Protocol.Farm;
using Esp.Protocol.Operations;

namespace Esp.Cli;

/// <summary>
/// One command on several boards at once (<c>--port</c> given more than once, a ';' list or <c>all</c>): the command
/// runs once per board, each with its own connection, resume, output prefix and cancellation, in listed order under
/// <c>--max-parallel</c>; the compression of what the boards write is shared. The report names every board's outcome.
/// </summary>
internal static class MultiBoard
{
    /// <summary>The commands that can run on several boards at once.</summary>
    public static readonly IReadOnlyList<string> Commands =
        ["write_flash", "verify_flash", "erase_flash", "erase_region", "read_mac", "chip_id", "flash_id"];

    public static string CommandList => string.Join(", ", Commands);

    /// <summary>
    /// The boards the command line names, or null when it names one port the way it always did (or none): then the
    /// command runs exactly as for a single board.
    /// </summary>
    public static IReadOnlyList<Board>? Boards(CliContext ctx)
    {
        var ports = ctx.Value(ctx.Globals.Port) ?? [];
        bool onePlainPort = ports is [var one] && !one.Contains(';', StringComparison.Ordinal)
            && !one.Trim().Equals(Board.AllPorts, StringComparison.OrdinalIgnoreCase);
        if (ports.Length == 0 || onePlainPort) return null;
        var boards = Board.FromPorts(ports, ctx.Host.ListPorts);
        if (boards.Count == 0)
            throw UsageException.Invalid($"The port list '{string.Join(";", ports)}' names no port.");
        if (boards.Count > 1 && !Commands.Contains(ctx.Command.Name))
            throw UsageException.Invalid($"{ctx.Command.Name} takes one port ({boards.Count} were given); only {CommandList} run on several boards at once.",
                "Give one --port, or run the command once per port.");
        return boards;
    }

    /// <summary>What happened on one board.</summary>
    internal sealed class BoardRun(Board board)
    {
        public Board Board { get; } = board;
        public BoardOutcome Outcome { get; set; } = BoardOutcome.NotStarted;
        public JsonObject? Payload { get; set; }
        public EspException? Error { get; set; }
        public TimeSpan Elapsed { get; set; }
        public CliContext? Context { get; set; }
        public Output? Output { get; set; }
    }

    /// <summary>Runs the command on every board and reports them all; returns the exit code.</summary>
    public static async Task<int> RunAsync(CliContext ctx, IReadOnlyList<Board> boards)
    {
        // Mistakes in the settings are one usage error, not one failure per board.
        _ = ctx.Settings;
        var maxText = ctx.Value(ctx.Globals.MaxParallel);
        int maxParallel = maxText is null ? 0 : Numbers.ParseInt(maxText, "number of boards at once (--max-parallel)", 0);
        bool stopOnFirstError = ctx.Value(ctx.Globals.StopOnFirstError);

        using var compression = new CompressionCache();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ctx.CancellationToken);
        var runs = boards.Select(b => new BoardRun(b)).ToArray();
        await ListedOrder.RunAsync(runs.Length, maxParallel, stop, async (i, token) =>
        {
            var run = runs[i];
            await RunBoardAsync(ctx, run, compression, token).ConfigureAwait(false);
            // A usage error is the same on every board: there is no point in going on.
            return run.Outcome == BoardOutcome.Failed && (stopOnFirstError || run.Error is UsageException);
        }).ConfigureAwait(false);

        if (runs.Select(r => r.Error).OfType<UsageException>().FirstOrDefault() is { } usage) throw usage;
        return MultiBoardReport.Write(ctx, runs, compression.Builds);
    }

    private static async Task RunBoardAsync(CliContext ctx, BoardRun run, CompressionCache compression, CancellationToken ct)
    {
        run.Output = ctx.Output.ForBoard(run.Board.Port);
        run.Context = ctx.ForBoard(run.Board.Port, run.Output, ct, compression);
        var sw = Stopwatch.StartNew();
        try
        {
            run.Payload = await ctx.Command.Run(run.Context).ConfigureAwait(false);
            run.Outcome = BoardOutcome.Succeeded;
        }
        catch (Exception ex) when (ct.IsCancellationRequested && Program.IsCancellation(ex, ct))
        {
            run.Outcome = BoardOutcome.Cancelled;
            run.Error = new EspException(EspErrorCode.Cancelled, $"The work on {run.Board.Port} was cancelled.");
        }
        catch (CommandFailedException ex)
        {
            run.Outcome = BoardOutcome.Failed;
            run.Error = ex.Error;
            run.Payload = ex.Payload;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // One board's failure, whatever it is, must not take the others' results with it.
            run.Outcome = BoardOutcome.Failed;
            run.Error = Program.AsEspException(ex);
        }
        finally
        {
            run.Elapsed = sw.Elapsed;
        }
    }
}
