using System.Buffers;
using System.Security.Cryptography;

namespace Esp.Protocol.Operations;

/// <summary>The bytes to write: an optional head read back from flash, the data, and erased bytes up to a whole word.</summary>
internal sealed class WritePayload(byte[] head, ReadOnlyMemory<byte> data)
{
    private static readonly byte[] Erased = [0xFF, 0xFF, 0xFF];
    private readonly int _pad = (4 - (head.Length + data.Length) % 4) % 4;

    public int Length => head.Length + data.Length + _pad;

    private IEnumerable<ReadOnlyMemory<byte>> Segments()
    {
        if (head.Length > 0) yield return head;
        yield return data;
        if (_pad > 0) yield return Erased.AsMemory(0, _pad);
    }

    /// <summary>
    /// The bytes [offset, offset + length): a slice of the caller's data when they lie in one segment, otherwise a
    /// copy in <paramref name="rented"/> (from the shared pool; the caller returns it).
    /// </summary>
    public ReadOnlyMemory<byte> Slice(int offset, int length, out byte[]? rented)
    {
        rented = null;
        int pos = 0;
        foreach (var seg in Segments())
        {
            if (offset >= pos && offset + length <= pos + seg.Length) return seg.Slice(offset - pos, length);
            pos += seg.Length;
        }
        rented = ArrayPool<byte>.Shared.Rent(length);
        CopyTo(offset, rented.AsSpan(0, length));
        return rented.AsMemory(0, length);
    }

    public void CopyTo(int offset, Span<byte> destination)
    {
        int pos = 0;
        foreach (var seg in Segments())
        {
            if (destination.IsEmpty) return;
            if (offset >= pos + seg.Length) { pos += seg.Length; continue; }
            int from = Math.Max(0, offset - pos);
            int n = Math.Min(seg.Length - from, destination.Length);
            seg.Span.Slice(from, n).CopyTo(destination);
            destination = destination[n..];
            offset += n;
            pos += seg.Length;
        }
    }

    public string Md5()
    {
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        foreach (var seg in Segments()) md5.AppendData(seg.Span);
        return Convert.ToHexStringLower(md5.GetHashAndReset());
    }
}
