namespace Esp.Cli.Tests;

public class NumbersTests
{
    [Theory]
    [InlineData("0", 0u)]
    [InlineData("4096", 4096u)]
    [InlineData("0x1000", 0x1000u)]
    [InlineData("0X3FF5A000", 0x3FF5A000u)]
    [InlineData("0b101", 5u)]
    [InlineData("0o17", 15u)]
    [InlineData("0xFFFF_FFFF", 0xFFFFFFFFu)]
    public void ParsesNumbers(string text, uint expected) => Assert.Equal(expected, Numbers.ParseUInt(text, "x"));

    [Theory]
    [InlineData("4MB", 4u * 1024 * 1024)]
    [InlineData("1k", 1024u)]
    [InlineData("1K", 1024u)]
    [InlineData("64KB", 65536u)]
    [InlineData("2M", 2u * 1024 * 1024)]
    [InlineData("0x10k", 16u * 1024)]
    [InlineData("1KiB", 1024u)]
    [InlineData("512", 512u)]
    public void ParsesSizes(string text, uint expected) => Assert.Equal(expected, Numbers.ParseSize(text, "size"));

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("0x")]
    [InlineData("-1")]
    [InlineData("0x100000000")]
    [InlineData("4GB")]
    [InlineData("1.5")]
    public void RejectsNonsense(string text)
    {
        var ex = Assert.Throws<UsageException>(() => Numbers.ParseSize(text, "size"));
        Assert.Equal(Esp.Protocol.Errors.EspErrorCode.InvalidNumber, ex.Code);
    }

    [Fact]
    public void AddressesDoNotTakeSizeSuffixes() => Assert.Throws<UsageException>(() => Numbers.ParseUInt("4k", "address"));
}
