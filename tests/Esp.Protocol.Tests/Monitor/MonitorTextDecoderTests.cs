using System.Text;
using Esp.Protocol.Monitor;

namespace Esp.Protocol.Tests.Monitor;

public class MonitorTextDecoderTests
{
    private static readonly DateTimeOffset T = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    /// <summary>Decodes the reads in turn and renders the pieces: "|" marks a line start, "$" a line end.</summary>
    private static string Render(params byte[][] reads)
    {
        var decoder = new MonitorTextDecoder();
        var pieces = new List<MonitorText>();
        foreach (var r in reads) decoder.Decode(r, T, pieces);
        decoder.Flush(T, pieces);
        var sb = new StringBuilder();
        foreach (var p in pieces) sb.Append(p.StartsLine ? "|" : "").Append(p.Text).Append(p.EndsLine ? "$" : "");
        return sb.ToString();
    }

    private static byte[] A(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public void EachLineEndingEndsOneLine()
    {
        Assert.Equal("|a$|b$|c$|d$|$|e", Render(A("a\r\nb\nc\rd\n\re")));
    }

    [Fact]
    public void ALineArrivingInPiecesIsContinued()
    {
        Assert.Equal("|boot:0x13$|load:0x40080400$|entry", Render(A("boot:0x13\r\nload"), A(":0x40080400\r"), A("\nentry")));
    }

    [Fact]
    public void ACharacterSplitAcrossReadsIsJoined()
    {
        var euro = A("€");
        Assert.Equal("|price 3€$", Render([.. A("price 3"), euro[0]], [euro[1], euro[2], (byte)'\n']));
    }

    [Fact]
    public void BinaryIsEscapedNeverThrown()
    {
        // Invalid UTF-8, a lone continuation byte, NUL, BEL, DEL and a C1 control (U+0085) are escaped; tab and ESC stay.
        byte[] data = [0xFF, 0x80, (byte)'x', 0x00, 0x07, 0x7F, 0xC2, 0x85, (byte)'\t', 0x1B, (byte)'[', (byte)'0', (byte)'m'];
        Assert.Equal("|\\xff\\x80x\\x00\\x07\\x7f\\xc2\\x85\t\u001b[0m", Render(data));
    }

    [Fact]
    public void ACharacterCutOffAtTheEndIsEscapedOnFlush()
    {
        Assert.Equal("|ok\\xe2\\x82", Render(A("ok"), [0xE2, 0x82]));
    }

    [Fact]
    public void RandomBytesAlwaysDecode()
    {
        var rng = new Random(5);
        for (int run = 0; run < 200; run++)
        {
            var data = new byte[rng.Next(1, 300)];
            rng.NextBytes(data);
            int cut = rng.Next(data.Length);
            var text = Render(data[..cut], data[cut..]);
            Assert.DoesNotContain('\uFFFD', text);
        }
    }
}
