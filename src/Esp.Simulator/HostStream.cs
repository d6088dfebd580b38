namespace Esp.Simulator;

/// <summary>In-process host end of the virtual UART.</summary>
internal sealed class HostStream : Stream
{
    private readonly VirtualChip _chip;
    private int _closed;

    public HostStream(VirtualChip chip) => _chip = chip;

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override bool CanTimeout => true;
    public override int ReadTimeout { get; set; } = Timeout.Infinite;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.Length == 0) return 0;
        var deadline = ReadTimeout == Timeout.Infinite ? long.MaxValue : Environment.TickCount64 + ReadTimeout;
        while (true)
        {
            if (_closed != 0) return 0;
            var n = _chip.TryHostRead(buffer, out var wait);
            if (n >= 0) return n;
            var left = deadline == long.MaxValue ? Timeout.Infinite : (int)Math.Max(0, deadline - Environment.TickCount64);
            if (left == 0) throw new TimeoutException("No data from the virtual chip within the read timeout.");
            if (wait == 0) { Thread.Yield(); continue; }
            _chip.TxSignal.Wait(wait == Timeout.Infinite ? left : left == Timeout.Infinite ? wait : Math.Min(wait, left));
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.Length == 0) return 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_closed != 0) return 0;
            var n = _chip.TryHostRead(buffer.Span, out var wait);
            if (n >= 0) return n;
            if (wait == 0) { await Task.Yield(); continue; }
            await _chip.TxSignal.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_closed != 0, this);
        _chip.HostWrite(buffer);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0) _chip.CloseHostStreamInternal(this);
        base.Dispose(disposing);
    }
}
