using Esp.Protocol.Chips;
using Esp.Protocol.Errors;

namespace Esp.Protocol.Tests.Chips;

public class MacAddressTests
{
    [Fact]
    public void Esp32FromTraceEfuseWords()
    {
        var mac = MacAddress.FromRegisters(ChipDatabase.Esp32, TraceRegisters.Reader(TraceRegisters.Esp32));
        Assert.Equal("24:0a:c4:01:02:03", MacAddress.Format(mac));
        Assert.Equal([0x3FF5A008u, 0x3FF5A004u], MacAddress.Registers(ChipDatabase.Esp32)); // esptool's order in the trace
    }

    [Fact]
    public void C3FromTraceEfuseWords()
    {
        var mac = MacAddress.FromRegisters(ChipDatabase.Esp32C3, TraceRegisters.Reader(TraceRegisters.Esp32C3));
        Assert.Equal("58:cf:79:01:02:03", MacAddress.Format(mac));
        Assert.Equal([0x60008844u, 0x60008848u], MacAddress.Registers(ChipDatabase.Esp32C3));
        Assert.Null(MacAddress.Eui64(ChipDatabase.Esp32C3, TraceRegisters.Reader(TraceRegisters.Esp32C3)));
    }

    [Fact]
    public async Task AsyncVariantMatches()
    {
        var read = TraceRegisters.Reader(TraceRegisters.Esp32);
        var mac = await MacAddress.FromRegistersAsync(ChipDatabase.Esp32, a => Task.FromResult(read(a)));
        Assert.Equal("24:0a:c4:01:02:03", MacAddress.Format(mac));
    }

    [Theory]
    [InlineData("esp32s2", 0x3F41A044u)]
    [InlineData("esp32s3", 0x60007044u)]
    [InlineData("esp32c2", 0x60008840u)]
    [InlineData("esp32c61", 0x600B4844u)]
    [InlineData("esp32p4", 0x5012D044u)]
    public void MacWordsLayout(string key, uint macRegister)
    {
        var read = TraceRegisters.Words((macRegister, 0x33445566), (macRegister + 4, 0xABCD1122));
        Assert.Equal("11:22:33:44:55:66", MacAddress.Format(MacAddress.FromRegisters(ChipDatabase.Get(key), read)));
    }

    [Theory]
    [InlineData("esp32c6", 0x600B0844u)]
    [InlineData("esp32c5", 0x600B4844u)]
    [InlineData("esp32h2", 0x600B0844u)]
    public void MacExtAndEui64(string key, uint macRegister)
    {
        var chip = ChipDatabase.Get(key);
        var read = TraceRegisters.Words((macRegister, 0x33445566), (macRegister + 4, 0xFFFE1122));
        Assert.Equal("11:22:33:44:55:66", MacAddress.Format(MacAddress.FromRegisters(chip, read)));
        Assert.Equal("ff:fe", MacAddress.Format(MacAddress.MacExt(chip, read)!));
        Assert.Equal("11:22:33:ff:fe:44:55:66", MacAddress.Format(MacAddress.Eui64(chip, read)!));
        Assert.Equal(
            [("MAC", "11:22:33:ff:fe:44:55:66"), ("BASE MAC", "11:22:33:44:55:66"), ("MAC_EXT", "ff:fe")],
            MacAddress.DescribeLines(chip, read));
    }

    [Fact]
    public void OnlyC5C6AndH2HaveMacExt() =>
        Assert.Equal(["esp32c5", "esp32c6", "esp32h2"], ChipDatabase.All.Where(c => c.HasMacExt).Select(c => c.Key).Order());

    [Fact]
    public void Esp8266OuiFromWord3()
    {
        var read = TraceRegisters.Words((0x3FF00050, 0xAB000000), (0x3FF00054, 0x00FF1234), (0x3FF0005C, 0x005CCF7F));
        Assert.Equal("5c:cf:7f:12:34:ab", MacAddress.Format(MacAddress.FromRegisters(ChipDatabase.Esp8266, read)));
    }

    [Theory]
    [InlineData(0x00001234u, "18:fe:34:12:34:ab")]
    [InlineData(0x00011234u, "ac:d0:74:12:34:ab")]
    public void Esp8266DefaultOuis(uint mac1, string expected)
    {
        var read = TraceRegisters.Words((0x3FF00050, 0xAB000000), (0x3FF00054, mac1));
        Assert.Equal(expected, MacAddress.Format(MacAddress.FromRegisters(ChipDatabase.Esp8266, read)));
    }

    [Fact]
    public void Esp8266UnknownOuiIsAnError()
    {
        var read = TraceRegisters.Words((0x3FF00054, 0x00021234));
        var ex = Assert.Throws<EspException>(() => MacAddress.FromRegisters(ChipDatabase.Esp8266, read));
        Assert.Contains("Unknown OUI", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Esp8266ChipId()
    {
        var read = TraceRegisters.Words((0x3FF00050, 0xAB000000), (0x3FF00054, 0x00FF1234));
        Assert.Equal(0xFF1234ABu, MacAddress.Esp8266ChipId(ChipDatabase.Esp8266, read));
        Assert.Throws<EspException>(() => MacAddress.Esp8266ChipId(ChipDatabase.Esp32, read));
    }
}
