namespace Esp.Protocol.Farm;

/// <summary>
/// Runs one piece of work per board, at most <c>maxParallel</c> at once, starting them in their listed order; once
/// <c>stop</c> is cancelled, the boards not yet started are skipped.
/// </summary>
public static class ListedOrder
{
    /// <param name="count">How many boards.</param>
    /// <param name="maxParallel">Boards worked on at once; 0 means all of them.</param>
    /// <param name="stop">Cancelled to start no more boards (the work receives its token).</param>
    /// <param name="run">The work for board <c>i</c>; returns true when the run should stop after it.</param>
    /// <param name="skipped">Called for each board left out after the stop.</param>
    public static Task RunAsync(int count, int maxParallel, CancellationTokenSource stop, Func<int, CancellationToken, Task<bool>> run, Action<int>? skipped = null)
    {
        ArgumentNullException.ThrowIfNull(stop);
        ArgumentNullException.ThrowIfNull(run);
        int next = -1;
        async Task WorkerAsync()
        {
            for (int i; (i = Interlocked.Increment(ref next)) < count;)
            {
                if (stop.IsCancellationRequested)
                {
                    skipped?.Invoke(i);
                    continue;
                }
                if (await run(i, stop.Token).ConfigureAwait(false)) await stop.CancelAsync().ConfigureAwait(false);
            }
        }
        int workers = maxParallel > 0 ? Math.Min(maxParallel, count) : count;
        return Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(WorkerAsync, CancellationToken.None)));
    }
}
