namespace Esp.Protocol.Transport;

/// <summary>
/// RFC 2217 commands waiting for the server's answer. The server answers command n with n + 100, in the order the
/// commands were sent, so each command number keeps its own queue of waiters.
/// </summary>
internal sealed class ComPortAnswers
{
    private readonly Lock _lock = new();
    private readonly Dictionary<byte, Queue<TaskCompletionSource<byte[]>>> _waiting = [];

    /// <summary>A task that completes with the value of the server's answer to <paramref name="command"/>.</summary>
    public Task<byte[]> Expect(byte command)
    {
        var tcs = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            var key = (byte)(command + TelnetCodec.ServerOffset);
            if (!_waiting.TryGetValue(key, out var queue)) _waiting[key] = queue = new Queue<TaskCompletionSource<byte[]>>();
            queue.Enqueue(tcs);
        }
        return tcs.Task;
    }

    /// <summary>Hands a server command's value to the oldest waiter; notifications nobody waits for are dropped.</summary>
    public void Complete(byte serverCommand, byte[] value)
    {
        TaskCompletionSource<byte[]>? waiter = null;
        lock (_lock)
        {
            if (_waiting.TryGetValue(serverCommand, out var queue) && queue.Count > 0) waiter = queue.Dequeue();
        }
        waiter?.TrySetResult(value);
    }

    /// <summary>Forgets every waiter, so that late answers are not taken for the answers to later commands.</summary>
    public void Forget()
    {
        lock (_lock)
        {
            foreach (var queue in _waiting.Values) queue.Clear();
        }
    }

    /// <summary>Fails every waiter (the connection is gone).</summary>
    public void FailAll(Func<Exception> error)
    {
        lock (_lock)
        {
            foreach (var queue in _waiting.Values)
                while (queue.Count > 0)
                    queue.Dequeue().TrySetException(error());
        }
    }
}
