using Esp.Protocol.Chips;
using Esp.Protocol.Errors;

namespace Esp.Protocol.Tests.Chips;

public class ChipDatabaseTests
{
    public static TheoryData<string> Keys => new(ChipDatabase.All.Select(c => c.Key));

    [Theory]
    [InlineData("esp32c3", "esp32c3")]
    [InlineData("ESP32-C3", "esp32c3")]
    [InlineData("esp32_c3", "esp32c3")]
    [InlineData("ESP32C3", "esp32c3")]
    [InlineData(" esp32-c3 ", "esp32c3")]
    [InlineData("ESP32-S3", "esp32s3")]
    [InlineData("esp32-c61", "esp32c61")]
    [InlineData("ESP32-H2", "esp32h2")]
    [InlineData("ESP32-P4", "esp32p4")]
    [InlineData("ESP8266", "esp8266")]
    [InlineData("esp32", "esp32")]
    public void GetAcceptsEsptoolSpellings(string spelling, string key)
    {
        Assert.Equal(key, ChipDatabase.Get(spelling).Key);
        Assert.Equal(key, ChipDatabase.TryGet(spelling)!.Key);
    }

    [Theory]
    [MemberData(nameof(Keys))]
    public void DisplayNameRoundTrips(string key)
    {
        var chip = ChipDatabase.Get(key);
        Assert.Same(chip, ChipDatabase.Get(chip.Name));
    }

    [Theory]
    [InlineData("esp32c4")]
    [InlineData("esp32s3beta2")]
    [InlineData("")]
    public void UnknownNamesAreRejected(string name)
    {
        Assert.Null(ChipDatabase.TryGet(name));
        var ex = Assert.Throws<EspException>(() => ChipDatabase.Get(name));
        Assert.Equal(EspErrorCode.UnknownChip, ex.Code);
    }

    [Fact]
    public void KeysNamesMagicsAndImageIdsAreUnique()
    {
        Assert.Equal(ChipDatabase.All.Count, ChipDatabase.All.Select(c => c.Key).Distinct().Count());
        Assert.Equal(ChipDatabase.All.Count, ChipDatabase.All.Select(c => c.Name).Distinct().Count());
        var magics = ChipDatabase.All.SelectMany(c => c.MagicValues).ToList();
        Assert.Equal(magics.Count, magics.Distinct().Count());
        var ids = ChipDatabase.All.Where(c => c.ImageChipId is not null).Select(c => c.ImageChipId).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    public static TheoryData<uint, string> Magics
    {
        get
        {
            var data = new TheoryData<uint, string>();
            foreach (var chip in ChipDatabase.All)
                foreach (var magic in chip.MagicValues) data.Add(magic, chip.Key);
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Magics))]
    public void ByMagicFindsEveryMagic(uint magic, string key) => Assert.Equal(key, ChipDatabase.ByMagic(magic)!.Key);

    [Theory]
    [InlineData(0xFFF0C101u, "esp8266")]
    [InlineData(0x00F01D83u, "esp32")] // trace esp32-rom/read_mac.jsonl
    [InlineData(0x000007C6u, "esp32s2")]
    [InlineData(0x1B31506Fu, "esp32c3")] // trace esp32c3-rom/read_mac.jsonl
    [InlineData(0x2CE0806Fu, "esp32c6")]
    public void ByMagicKnownValues(uint magic, string key) => Assert.Equal(key, ChipDatabase.ByMagic(magic)!.Key);

    [Theory]
    [InlineData(0xEB004136u)] // ESP32-S3 beta2 (unsupported)
    [InlineData(0x0DA1806Fu)] // ESP32-C6 beta (unsupported)
    [InlineData(0x12345678u)]
    public void ByMagicUnknown(uint magic) => Assert.Null(ChipDatabase.ByMagic(magic));

    [Fact]
    public void OnlyEsp8266Esp32AndS2AreDetectedByMagicInCurrentEsptool()
    {
        var byMagic = ChipDatabase.All.Where(c => !c.DetectBySecurityInfo).Select(c => c.Key);
        Assert.Equal(["esp8266", "esp32", "esp32s2"], byMagic);
    }

    [Theory]
    [InlineData(0, "esp32")]
    [InlineData(2, "esp32s2")]
    [InlineData(5, "esp32c3")]
    [InlineData(9, "esp32s3")]
    [InlineData(12, "esp32c2")]
    [InlineData(13, "esp32c6")]
    [InlineData(16, "esp32h2")]
    [InlineData(18, "esp32p4")]
    [InlineData(20, "esp32c61")]
    [InlineData(23, "esp32c5")]
    public void ByImageChipId(ushort id, string key) => Assert.Equal(key, ChipDatabase.ByImageChipId(id)!.Key);

    [Theory]
    [InlineData(4)] // S3 beta2
    [InlineData(6)] // S3 beta3
    [InlineData(7)] // C6 beta
    [InlineData(10)] // H2 beta1
    [InlineData(14)] // H2 beta2
    [InlineData(17)] // C5 beta3
    [InlineData(0xFFFF)]
    public void ByImageChipIdUnknown(ushort id) => Assert.Null(ChipDatabase.ByImageChipId(id));

    [Fact]
    public void Esp8266HasNoImageChipId() => Assert.Null(ChipDatabase.Esp8266.ImageChipId);

    // Values from esptool targets at bb72741 (inherited values resolved through the class hierarchy).
    [Theory]
    //           key,        uartDate,   clkDiv,     bootloader, efuseBase,  macReg,     spiBase,    w0,   status
    [InlineData("esp8266", 0x60000078u, 0x60000014u, 0x0000u, 0x3FF00050u, 0x3FF00050u, 0x60000200u, 0x40u, 2)]
    [InlineData("esp32", 0x60000078u, 0x3FF40014u, 0x1000u, 0x3FF5A000u, 0x3FF5A004u, 0x3FF42000u, 0x80u, 4)]
    [InlineData("esp32s2", 0x60000078u, 0x3F400014u, 0x1000u, 0x3F41A000u, 0x3F41A044u, 0x3F402000u, 0x58u, 4)]
    [InlineData("esp32s3", 0x60000080u, 0x60000014u, 0x0000u, 0x60007000u, 0x60007044u, 0x60002000u, 0x58u, 4)]
    [InlineData("esp32c2", 0x6000007Cu, 0x60000014u, 0x0000u, 0x60008800u, 0x60008840u, 0x60002000u, 0x58u, 4)]
    [InlineData("esp32c3", 0x6000007Cu, 0x60000014u, 0x0000u, 0x60008800u, 0x60008844u, 0x60002000u, 0x58u, 4)]
    [InlineData("esp32c5", 0x6000007Cu, 0x60000014u, 0x2000u, 0x600B4800u, 0x600B4844u, 0x60003000u, 0x58u, 4)]
    [InlineData("esp32c6", 0x6000007Cu, 0x60000014u, 0x0000u, 0x600B0800u, 0x600B0844u, 0x60003000u, 0x58u, 4)]
    [InlineData("esp32c61", 0x6000007Cu, 0x60000014u, 0x0000u, 0x600B4800u, 0x600B4844u, 0x60003000u, 0x58u, 4)]
    [InlineData("esp32h2", 0x6000007Cu, 0x60000014u, 0x0000u, 0x600B0800u, 0x600B0844u, 0x60003000u, 0x58u, 4)]
    [InlineData("esp32p4", 0x500CA08Cu, 0x500CA014u, 0x2000u, 0x5012D000u, 0x5012D044u, 0x5008D000u, 0x58u, 4)]
    public void RegisterAddressesMatchEsptool(string key, uint uartDate, uint clkDiv, uint bootloader,
        uint efuseBase, uint macReg, uint spiBase, uint w0, int statusBytes)
    {
        var chip = ChipDatabase.Get(key);
        Assert.Equal(uartDate, chip.UartDateRegister);
        Assert.Equal(clkDiv, chip.UartClkDivRegister);
        Assert.Equal(bootloader, chip.BootloaderOffset);
        Assert.Equal(efuseBase, chip.EfuseBase);
        Assert.Equal(macReg, chip.MacRegister);
        Assert.Equal(spiBase, chip.Spi.Base);
        Assert.Equal(spiBase + w0, chip.Spi.W0);
        Assert.Equal(statusBytes, chip.RomStatusBytes);
        Assert.Equal(key is "esp8266" or "esp32", chip.Spi.AddressLeftJustified);
    }

    [Fact]
    public void SpiRegistersMatchTraces()
    {
        // esp32-rom/read_mac.jsonl and esp32c3-rom/read_mac.jsonl
        var esp32 = ChipDatabase.Esp32.Spi;
        Assert.Equal([0x3FF4201Cu, 0x3FF42020u, 0x3FF42024u, 0x3FF4202Cu, 0x3FF42080u, 0x3FF42004u],
            [esp32.Usr, esp32.Usr1, esp32.Usr2, esp32.MisoDlen!.Value, esp32.W0, esp32.Addr]);
        var c3 = ChipDatabase.Esp32C3.Spi;
        Assert.Equal([0x60002018u, 0x6000201Cu, 0x60002020u, 0x60002028u, 0x60002058u, 0x60002004u],
            [c3.Usr, c3.Usr1, c3.Usr2, c3.MisoDlen!.Value, c3.W0, c3.Addr]);
        Assert.Null(ChipDatabase.Esp8266.Spi.MosiDlen);
    }

    [Fact]
    public void EncryptedFifthWordOnlyWhereTheRomAcceptsIt()
    {
        foreach (var chip in ChipDatabase.All)
            Assert.Equal(chip.Key is not ("esp8266" or "esp32"), chip.RomSupportsEncryptedFlag);
    }

    [Fact]
    public void FlashFrequencyAndSizeTables()
    {
        Assert.Equal(0x0, ChipDatabase.Esp32C6.FlashFrequencies["80m"]); // esptool's C6 workaround
        Assert.False(ChipDatabase.Esp32C6.FlashFrequencies.ContainsKey("26m"));
        Assert.Equal(0xF, ChipDatabase.Esp32C2.FlashFrequencies["60m"]);
        Assert.Equal(0xF, ChipDatabase.Esp32H2.FlashFrequencies["48m"]);
        Assert.Equal(0x1, ChipDatabase.Esp32P4.FlashFrequencies["26m"]);
        Assert.Equal(0x90, ChipDatabase.Esp8266.FlashSizes["16MB"]);
        foreach (var chip in ChipDatabase.All.Where(c => !c.IsEsp8266))
            Assert.Equal(0x70, chip.FlashSizes["128MB"]);
    }

    [Theory]
    [InlineData("esp8266", 0x1C4u, 115200, 26)] // 115200 × 0x1C4 / 2 (the ESP8266 divider) ≈ 26 MHz
    [InlineData("esp32", 0x15Au, 115200, 40)] // trace UART0_CLKDIV
    [InlineData("esp32c2", 0x15Au, 115200, 40)]
    [InlineData("esp32c5", 0x1A0u, 115200, 48)]
    [InlineData("esp32c3", 0u, 115200, 40)]
    [InlineData("esp32h2", 0u, 115200, 32)]
    public void CrystalEstimate(string key, uint clkDiv, int baud, int mhz) =>
        Assert.Equal(mhz, ChipDatabase.Get(key).EstimateCrystalMhz(clkDiv, baud));
}
