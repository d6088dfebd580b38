using System.IO.Compression;
using Esp.Protocol.Operations;

namespace Esp.Protocol.Tests.Engine;

/// <summary>The pigz-style chunked zlib stream that compressed writes send.</summary>
public class ChunkedDeflateTests
{
    private const int Chunk = 4096; // small chunks so that many boundaries are crossed cheaply

    public static TheoryData<string, int> Cases()
    {
        var d = new TheoryData<string, int>();
        foreach (var kind in new[] { "random", "zero", "firmware" })
            foreach (var n in new[] { 0, 1, 3, 4095, 4096, 4097, 8192, 3 * 4096 + 17, 40000 })
                d.Add(kind, n);
        return d;
    }

    private static byte[] Make(string kind, int n)
    {
        var b = new byte[n];
        var rng = new Random(n + kind.Length);
        if (kind == "random") rng.NextBytes(b);
        else if (kind == "firmware")
            for (int i = 0; i + 4 <= n; i += 4)
                BitConverter.TryWriteBytes(b.AsSpan(i), rng.Next(64) < 40 ? 0x00A00513u + (uint)rng.Next(16) : (uint)rng.Next());
        return b;
    }

    private static byte[] Inflate(byte[] z)
    {
        using var zs = new ZLibStream(new MemoryStream(z), CompressionMode.Decompress);
        var o = new MemoryStream();
        zs.CopyTo(o);
        return o.ToArray();
    }

    [Theory, MemberData(nameof(Cases))]
    public void Inflates_to_the_input_with_a_valid_adler(string kind, int n)
    {
        var data = Make(kind, n);
        foreach (int level in new[] { 1, 6, 9 })
        {
            var z = ChunkedDeflate.Compress(data, level, Chunk);
            Assert.Equal(0, (z[0] * 256 + z[1]) % 31); // zlib FCHECK
            Assert.Equal(data, Inflate(z)); // ZLibStream checks the Adler-32 trailer
        }
    }

    [Theory, MemberData(nameof(Cases))]
    public async Task Held_and_streamed_images_are_the_same_bytes_as_the_whole_stream(string kind, int n)
    {
        var data = Make(kind, n);
        // a write's payload ends with erased bytes up to a whole word
        var padded = data.Concat(Enumerable.Repeat((byte)0xFF, (4 - n % 4) % 4)).ToArray();
        var whole = ChunkedDeflate.Compress(padded, 6, Chunk);
        Assert.Equal(padded, Inflate(whole));
        foreach (bool hold in new[] { true, false })
        {
            using var image = CompressedImage.Build(data, 6, Chunk, hold);
            Assert.Equal(whole.Length, image.Length);
            var got = new List<byte>(image.Header);
            await using (var r = image.Open())
                for (int i = 0; i < image.ChunkCount; i++) got.AddRange((await r.NextAsync()).ToArray());
            got.AddRange(image.Trailer);
            Assert.Equal(whole, got.ToArray());
        }
    }

    [Fact]
    public void Adler32_matches_the_definition_and_combines()
    {
        var data = Make("random", 20000);
        uint a = 1, b = 0;
        foreach (var x in data) { a = (a + x) % 65521; b = (b + a) % 65521; }
        Assert.Equal(a | (b << 16), Adler32.Update(1, data));
        foreach (int cut in new[] { 0, 1, 5552, 7000, 20000 })
            Assert.Equal(Adler32.Update(1, data), Adler32.Combine(Adler32.Update(1, data.AsSpan(0, cut)), Adler32.Update(1, data.AsSpan(cut)), data.Length - cut));
        var ff = new byte[100000];
        ff.AsSpan().Fill(0xFF);
        uint a2 = 1, b2 = 0;
        foreach (var x in ff) { a2 = (a2 + x) % 65521; b2 = (b2 + a2) % 65521; }
        Assert.Equal(a2 | (b2 << 16), Adler32.Update(1, ff));
    }
}
