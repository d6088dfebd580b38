using Esp.Protocol.Text;

namespace Esp.Protocol.Tests.Text;

public class NumberTextTests
{
    [Theory]
    [InlineData("4096", 4096ul)]
    [InlineData("0x1C0000", 0x1C0000ul)]
    [InlineData("0b101", 5ul)]
    [InlineData("0o17", 15ul)]
    [InlineData(" 0xFFFF_FFFF ", 0xFFFFFFFFul)]
    public void ReadsEveryBase(string text, ulong expected)
    {
        Assert.True(NumberText.TryParse(text, allowSizeSuffix: false, out var v));
        Assert.Equal(expected, v);
    }

    [Theory]
    [InlineData("4k", 0x1000ul)]
    [InlineData("4K", 0x1000ul)]
    [InlineData("64KB", 0x10000ul)]
    [InlineData("1KiB", 1024ul)]
    [InlineData("4M", 0x400000ul)]
    [InlineData("4m", 0x400000ul)]
    [InlineData("4MB", 0x400000ul)]
    [InlineData("2MiB", 0x200000ul)]
    [InlineData("0x10k", 0x4000ul)]
    public void SizesTakeBinarySuffixes(string text, ulong expected)
    {
        Assert.True(NumberText.TryParse(text, allowSizeSuffix: true, out var v));
        Assert.Equal(expected, v);
        Assert.False(NumberText.TryParse(text, allowSizeSuffix: false, out _));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("k")]
    [InlineData("0x")]
    [InlineData("0b2")]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("4GB")]
    [InlineData("18446744073709551615k")]
    public void RejectsNonsense(string? text) => Assert.False(NumberText.TryParse(text, allowSizeSuffix: true, out _));

    [Fact]
    public void UInt32RejectsLargerValues()
    {
        Assert.True(NumberText.TryParseUInt32("4095M", allowSizeSuffix: true, out var v));
        Assert.Equal(4095u * 1024 * 1024, v);
        Assert.False(NumberText.TryParseUInt32("4096M", allowSizeSuffix: true, out _));
    }
}
