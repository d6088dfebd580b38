using System.Buffers;

namespace Esp.Protocol.Operations;

/// <summary>
/// A payload's chunk-compressed zlib stream: built by a counting pass on all cores, then read chunk by chunk for
/// sending, either from the chunks kept by that pass (<c>hold</c>) or by recompressing them a few at a time ahead of
/// the sender. Both give the same bytes (checked per chunk).
/// </summary>
internal sealed class CompressedImage : IDisposable
{
    private readonly WritePayload _payload;
    private readonly int _level, _chunkSize;
    private readonly int[] _lengths;
    private byte[]?[]? _held;

    public int ChunkCount => _lengths.Length;
    /// <summary>The whole zlib stream's length: header, chunks and Adler-32.</summary>
    public long Length { get; }
    public byte[] Header { get; }
    public byte[] Trailer { get; } = new byte[ChunkedDeflate.TrailerLength];
    public bool Held => _held is not null;

    private CompressedImage(WritePayload payload, int level, int chunkSize, bool hold)
    {
        _payload = payload;
        _level = level;
        _chunkSize = chunkSize;
        Header = ChunkedDeflate.Header(level).ToArray();
        int count = ChunkedDeflate.ChunkCount(payload.Length, chunkSize);
        _lengths = new int[count];
        var adlers = new uint[count];
        var held = hold ? new byte[]?[count] : null;
        Parallel.For(0, count, i =>
        {
            _lengths[i] = CompressAt(i, out var output, out adlers[i]);
            if (held is not null) held[i] = output;
            else ArrayPool<byte>.Shared.Return(output);
        });
        _held = held;
        uint adler = 1;
        long total = ChunkedDeflate.HeaderLength + ChunkedDeflate.TrailerLength;
        for (int i = 0; i < count; i++)
        {
            adler = Adler32.Combine(adler, adlers[i], ChunkLength(i));
            total += _lengths[i];
        }
        Adler32.WriteTrailer(adler, Trailer);
        Length = total;
    }

    public static CompressedImage Build(WritePayload payload, int level, int chunkSize, bool hold) => new(payload, level, chunkSize, hold);

    /// <summary>Payload bytes whose compressed chunks lie wholly within the first <paramref name="compressedBytes"/> of the stream.</summary>
    public long PayloadCoveredBy(long compressedBytes)
    {
        long pos = ChunkedDeflate.HeaderLength, covered = 0;
        for (int i = 0; i < _lengths.Length && pos + _lengths[i] <= compressedBytes; i++)
        {
            pos += _lengths[i];
            covered += ChunkLength(i);
        }
        return covered;
    }

    /// <summary>For tests: the image of plain data.</summary>
    internal static CompressedImage Build(ReadOnlyMemory<byte> data, int level, int chunkSize, bool hold) =>
        new(new WritePayload([], data), level, chunkSize, hold);

    private int ChunkLength(int i) => Math.Min(_chunkSize, _payload.Length - i * _chunkSize);

    private int CompressAt(int i, out byte[] output, out uint adler)
    {
        var input = _payload.Slice(i * _chunkSize, ChunkLength(i), out var rented);
        try
        {
            adler = Adler32.Update(1, input.Span);
            return ChunkedDeflate.CompressChunk(input.Span, i == ChunkCount - 1, _level, out output);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Reads the chunks in order (one reader at a time).</summary>
    public ChunkReader Open() => new(this);

    public void Dispose()
    {
        var held = Interlocked.Exchange(ref _held, null);
        if (held is null) return;
        foreach (var b in held)
            if (b is not null) ArrayPool<byte>.Shared.Return(b);
    }

    internal sealed class ChunkReader(CompressedImage image) : IAsyncDisposable
    {
        /// <summary>Chunks compressed ahead of the sender when they are not held: bounded, not ∝ image.</summary>
        private static readonly int Window = Math.Clamp(Environment.ProcessorCount, 2, 8) + 1;
        private readonly Task<(byte[] Output, int Length)>?[] _ahead = new Task<(byte[], int)>?[Window];
        private int _next, _started;
        private byte[]? _current;

        public async ValueTask<ReadOnlyMemory<byte>> NextAsync()
        {
            int i = _next++;
            if (image._held is { } held) return held[i].AsMemory(0, image._lengths[i]);
            ReturnCurrent();
            while (_started < image.ChunkCount && _started < i + Window)
            {
                int k = _started++;
                _ahead[k % Window] = Task.Run(() =>
                {
                    int n = image.CompressAt(k, out var output, out _);
                    return (output, n);
                });
            }
            var (output, length) = await _ahead[i % Window]!.ConfigureAwait(false);
            _ahead[i % Window] = null;
            _current = output;
            if (length != image._lengths[i])
                throw new Esp.Protocol.Errors.EspException(Esp.Protocol.Errors.EspErrorCode.ProtocolViolation,
                    $"Internal error: chunk {i} recompressed to {length} bytes, but the counting pass made {image._lengths[i]}.");
            return output.AsMemory(0, length);
        }

        private void ReturnCurrent()
        {
            if (_current is not null) ArrayPool<byte>.Shared.Return(_current);
            _current = null;
        }

        public async ValueTask DisposeAsync()
        {
            ReturnCurrent();
            for (int j = 0; j < _ahead.Length; j++)
            {
                if (_ahead[j] is not { } t) continue;
                _ahead[j] = null;
                try { ArrayPool<byte>.Shared.Return((await t.ConfigureAwait(false)).Output); }
                catch (Exception) { /* the write already failed; nothing to give back */ }
            }
        }
    }
}
