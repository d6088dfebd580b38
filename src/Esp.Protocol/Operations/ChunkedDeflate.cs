using System.Buffers;
using System.IO.Compression;
using System.Runtime.CompilerServices;

namespace Esp.Protocol.Operations;

/// <summary>
/// pigz-style zlib: the input is cut into fixed chunks that are compressed independently (so on all cores) as raw
/// deflate. Every chunk but the last ends with a sync flush (byte aligned, a non-final empty stored block), the last
/// one with the final block; the zlib stream is a 2-byte header, the chunks in order, and the big-endian Adler-32 of
/// the whole input. Any inflater reads it as one stream. The output depends only on the input, the chunk size and the
/// level, never on scheduling, so a counting pass and a sending pass produce the same bytes.
/// </summary>
internal static class ChunkedDeflate
{
    /// <summary>zlib header for a 32 KiB window; FLEVEL only informs (inflaters ignore it), FCHECK makes it valid.</summary>
    public static ReadOnlySpan<byte> Header(int level) => level switch
    {
        <= 1 => [0x78, 0x01],
        <= 5 => [0x78, 0x5E],
        6 => [0x78, 0x9C],
        _ => [0x78, 0xDA],
    };

    public const int HeaderLength = 2, TrailerLength = 4;

    public static int ChunkCount(long length, int chunkSize) => (int)Math.Max(1, (length + chunkSize - 1) / chunkSize);

    /// <summary>
    /// Compresses one chunk into a buffer rented from <see cref="ArrayPool{T}.Shared"/> (the caller returns it).
    /// Returns the deflate byte count; <paramref name="last"/> ends the deflate stream, otherwise it ends with a sync flush.
    /// </summary>
    public static int CompressChunk(ReadOnlySpan<byte> input, bool last, int level, out byte[] output)
    {
        var sink = new PooledSink(Math.Max(64, input.Length)); // a power of two for whole chunks; grows only if deflate expands
        int length;
        using (var z = new DeflateStream(sink, new ZLibCompressionOptions { CompressionLevel = level }, leaveOpen: true))
        {
            z.Write(input);
            if (!last)
            {
                z.Flush(); // Z_SYNC_FLUSH: byte aligned, ends with 00 00 FF FF
                length = sink.Count;
            }
            else length = -1;
        } // Dispose finishes the stream; for a non-last chunk that final block is cut off again below
        if (length < 0) length = sink.Count;
        output = sink.Detach();
        return length;
    }

    /// <summary>The whole zlib stream of <paramref name="data"/> (for tests and the bench's ratio figure).</summary>
    public static byte[] Compress(ReadOnlySpan<byte> data, int level, int chunkSize)
    {
        int count = ChunkCount(data.Length, chunkSize);
        var parts = new byte[count][];
        var lengths = new int[count];
        var adlers = new uint[count];
        unsafe
        {
            fixed (byte* p = data)
            {
                nint ptr = (nint)p;
                int total = data.Length;
                Parallel.For(0, count, i =>
                {
                    int at = i * chunkSize, n = Math.Min(chunkSize, total - at);
                    var span = new ReadOnlySpan<byte>((byte*)ptr + at, n);
                    adlers[i] = Adler32.Update(1, span);
                    lengths[i] = CompressChunk(span, i == count - 1, level, out parts[i]);
                });
            }
        }
        var result = new byte[HeaderLength + lengths.Sum() + TrailerLength];
        Header(level).CopyTo(result);
        int o = HeaderLength;
        uint adler = 1;
        for (int i = 0; i < count; i++)
        {
            parts[i].AsSpan(0, lengths[i]).CopyTo(result.AsSpan(o));
            o += lengths[i];
            ArrayPool<byte>.Shared.Return(parts[i]);
            adler = Adler32.Combine(adler, adlers[i], Math.Min(chunkSize, data.Length - i * chunkSize));
        }
        Adler32.WriteTrailer(adler, result.AsSpan(o));
        return result;
    }

    /// <summary>Output stream into one pooled array that grows (by renting a bigger one) only for incompressible input.</summary>
    private sealed class PooledSink(int initial) : Stream
    {
        private byte[] _buffer = ArrayPool<byte>.Shared.Rent(initial);
        private int _length;

        public int Count => _length;

        public byte[] Detach()
        {
            var b = _buffer;
            _buffer = [];
            return b;
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_length + buffer.Length > _buffer.Length)
            {
                var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + buffer.Length));
                _buffer.AsSpan(0, _length).CopyTo(bigger);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = bigger;
            }
            buffer.CopyTo(_buffer.AsSpan(_length));
            _length += buffer.Length;
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

/// <summary>Adler-32 (RFC 1950) with zlib's combine, for the zlib trailer of chunk-compressed streams.</summary>
internal static class Adler32
{
    private const uint Base = 65521;
    private const int NMax = 5552; // largest n with 255 n (n + 1) / 2 + (n + 1) (Base - 1) < 2^32

    public static uint Update(uint adler, ReadOnlySpan<byte> data)
    {
        uint a = adler & 0xFFFF, b = adler >> 16;
        ref byte p = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(data);
        int i = 0, n = data.Length;
        while (i < n)
        {
            int end = i + Math.Min(NMax, n - i);
            for (; i + 8 <= end; i += 8)
            {
                a += Unsafe.Add(ref p, i); b += a;
                a += Unsafe.Add(ref p, i + 1); b += a;
                a += Unsafe.Add(ref p, i + 2); b += a;
                a += Unsafe.Add(ref p, i + 3); b += a;
                a += Unsafe.Add(ref p, i + 4); b += a;
                a += Unsafe.Add(ref p, i + 5); b += a;
                a += Unsafe.Add(ref p, i + 6); b += a;
                a += Unsafe.Add(ref p, i + 7); b += a;
            }
            for (; i < end; i++) { a += Unsafe.Add(ref p, i); b += a; }
            a %= Base;
            b %= Base;
        }
        return a | (b << 16);
    }

    /// <summary>The Adler-32 of A then B from adler(A), adler(B) and B's length (zlib's adler32_combine).</summary>
    public static uint Combine(uint adler1, uint adler2, long length2)
    {
        uint rem = (uint)(length2 % Base);
        uint sum1 = adler1 & 0xFFFF;
        uint sum2 = (uint)((ulong)rem * sum1 % Base);
        sum1 += (adler2 & 0xFFFF) + Base - 1;
        sum2 += (adler1 >> 16) + (adler2 >> 16) + Base - rem;
        if (sum1 >= Base) sum1 -= Base;
        if (sum1 >= Base) sum1 -= Base;
        if (sum2 >= Base << 1) sum2 -= Base << 1;
        if (sum2 >= Base) sum2 -= Base;
        return sum1 | (sum2 << 16);
    }

    public static void WriteTrailer(uint adler, Span<byte> destination) =>
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(destination, adler);
}
