namespace Esp.Protocol.Tests.Chips;

/// <summary>
/// READ_REG answers recorded in tests/Traces/*-rom/read_mac.jsonl (QEMU, synthetic eFuse images;
/// see tests/Traces/README.md). Unlisted addresses read as 0, like QEMU's blank eFuses.
/// </summary>
internal static class TraceRegisters
{
    public static readonly IReadOnlyDictionary<uint, uint> Esp32 = new Dictionary<uint, uint>
    {
        [0x40001000] = 0x00F01D83, // chip magic
        [0x3FF5A004] = 0xC4010203, // EFUSE_BLK0_RDATA1
        [0x3FF5A008] = 0x0038240A, // EFUSE_BLK0_RDATA2 (CRC 0x38 in bits 16–23)
        [0x3FF5A00C] = 0x00008200, // EFUSE_BLK0_RDATA3
        [0x3FF5A010] = 0x00000050, // EFUSE_BLK0_RDATA4 (CK8M_FREQ)
        [0x3FF5A014] = 0x00100000, // EFUSE_BLK0_RDATA5
        [0x3FF5A018] = 0x00000000, // EFUSE_BLK0_RDATA6
        [0x3FF6607C] = 0x96042000, // APB_CTRL_DATE
        [0x3FF40014] = 0x0000015A, // UART0_CLKDIV (QEMU value)
    };

    public static readonly IReadOnlyDictionary<uint, uint> Esp32C3 = new Dictionary<uint, uint>
    {
        [0x40001000] = 0x1B31506F, // chip magic (ECO3)
        [0x60008844] = 0x79010203, // EFUSE_RD_MAC_SPI_SYS_0
        [0x60008848] = 0x000058CF, // EFUSE_RD_MAC_SPI_SYS_1
        [0x60008850] = 0x000C0000, // EFUSE_RD_MAC_SPI_SYS_3
        [0x60008858] = 0x00000000, // EFUSE_RD_MAC_SPI_SYS_5
    };

    public static Func<uint, uint> Reader(IReadOnlyDictionary<uint, uint> values) =>
        address => values.TryGetValue(address, out var v) ? v : 0;

    /// <summary>Reader over explicit words; unlisted addresses read as 0.</summary>
    public static Func<uint, uint> Words(params (uint Address, uint Value)[] words)
    {
        var map = words.ToDictionary(w => w.Address, w => w.Value);
        return address => map.TryGetValue(address, out var v) ? v : 0;
    }

    /// <summary>READ_REG request/reply pairs of a golden trace (copied next to the tests from tests/Traces).</summary>
    public static Dictionary<uint, uint> FromTraceFile(string relativePath)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Traces", relativePath);
        if (!File.Exists(path)) throw new FileNotFoundException($"The golden trace '{relativePath}' is missing from the test output (expected at {path}).", path);
        var lines = File.ReadAllLines(path)
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement)
            .ToList();
        var result = new Dictionary<uint, uint>();
        for (int i = 0; i + 1 < lines.Count; i++)
        {
            if (lines[i].GetProperty("from").GetString() != "host" || !lines[i].TryGetProperty("hex", out var req)) continue;
            var request = Convert.FromHexString(req.GetString()!);
            if (request.Length != 12 || request[1] != 0x0A) continue;
            if (lines[i + 1].GetProperty("from").GetString() != "chip" || !lines[i + 1].TryGetProperty("hex", out var rep)) continue;
            var reply = Convert.FromHexString(rep.GetString()!);
            if (reply.Length < 8 || reply[1] != 0x0A) continue;
            result[BitConverter.ToUInt32(request, 8)] = BitConverter.ToUInt32(reply, 4);
        }
        return result;
    }
}
