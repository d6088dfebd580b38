using System.IO.Compression;

namespace Esp.Simulator;

/// <summary>Push-style zlib inflater over <see cref="ZLibStream"/>: feed compressed chunks, get the bytes they complete.</summary>
internal sealed class Inflater : IDisposable
{
    private readonly FeedStream _feed = new();
    private readonly ZLibStream _z;
    private readonly byte[] _buf = new byte[0x8000];

    public Inflater() => _z = new ZLibStream(_feed, CompressionMode.Decompress);

    public long TotalOut { get; private set; }

    /// <summary>Returns the newly inflated bytes. Throws <see cref="InvalidDataException"/> on a corrupt stream.</summary>
    public byte[] Feed(ReadOnlySpan<byte> compressed)
    {
        _feed.Add(compressed.ToArray());
        var output = new MemoryStream();
        int n;
        while ((n = _z.Read(_buf, 0, _buf.Length)) > 0) output.Write(_buf, 0, n);
        TotalOut += output.Length;
        return output.ToArray();
    }

    public void Dispose() => _z.Dispose();

    private sealed class FeedStream : Stream
    {
        private readonly Queue<byte[]> _q = new();
        private byte[]? _cur;
        private int _pos;

        public void Add(byte[] b) { if (b.Length > 0) _q.Enqueue(b); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_cur is null || _pos >= _cur.Length)
            {
                if (_q.Count == 0) return 0;
                _cur = _q.Dequeue();
                _pos = 0;
            }
            var n = Math.Min(count, _cur.Length - _pos);
            Array.Copy(_cur, _pos, buffer, offset, n);
            _pos += n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
