using System.Text;
using Esp.Protocol.Chips;
using Esp.Protocol.Commands;
using Esp.Protocol.Errors;
using Esp.Protocol.Framing;
using Esp.Protocol.Images;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;
using Esp.Protocol.Transport;

namespace Esp.Reliability.Fuzz;

/// <summary>
/// Every parser the engine runs on untrusted bytes, as a fuzz target: it may reject its input only with an
/// <see cref="EspException"/>; any other exception (or a hang) is a bug. Shared by the CsCheck property tests and
/// the SharpFuzz harness in fuzz/.
/// </summary>
public static class FuzzTargets
{
    public static IReadOnlyDictionary<string, Action<byte[]>> All { get; } = new Dictionary<string, Action<byte[]>>
    {
        ["slip"] = Slip,
        ["reply"] = Reply,
        ["espimage"] = EspImageParse,
        ["intelhex"] = IntelHexParse,
        ["elf"] = Elf,
        ["partitions"] = Partitions,
        ["sfdp"] = SfdpParse,
        ["stubjson"] = StubJson,
        ["securityinfo"] = SecurityInfoParse,
    };

    /// <summary>Runs a target; returns false when it rejected the input with an EspException.</summary>
    public static bool Run(string target, byte[] input)
    {
        try
        {
            All[target](input);
            return true;
        }
        catch (EspException)
        {
            return false;
        }
    }

    public static void Slip(byte[] input)
    {
        var decoder = new SlipDecoder(16, maxFrameLength: 1024);
        int frames = 0;
        foreach (var b in input)
        {
            if (decoder.Push(b) == SlipEvent.Frame)
            {
                frames++;
                if (decoder.Frame.Length > 1024) throw new InvalidOperationException("A frame grew past the decoder's limit.");
            }
        }
        // Round trip: whatever we encode decodes to the same bytes.
        var encoded = Esp.Protocol.Framing.Slip.Encode(input);
        var d2 = new SlipDecoder();
        byte[]? got = null;
        foreach (var b in encoded)
            if (d2.Push(b) == SlipEvent.Frame && d2.Frame.Length > 0) got = d2.Frame.ToArray();
        if (input.Length > 0 && (got is null || !got.AsSpan().SequenceEqual(input)))
            throw new InvalidOperationException("SLIP round trip changed the data.");
    }

    /// <summary>The reply path: SlipLink → Response.TryParse → CommandClient matching and status checks.</summary>
    public static void Reply(byte[] input)
    {
        if (input.Length == 0) return;
        byte config = input[0];
        var transport = new BytesTransport(input.AsMemory(1));
        var chip = (config & 2) != 0 ? ChipDatabase.Esp8266 : ChipDatabase.Esp32; // 2 or 4 ROM status bytes
        bool stub = (config & 1) != 0;
        var client = new CommandClient(new SlipLink(transport), EspTimeouts.Default, stub ? new StubLoader(chip, usbOtg: false) : new RomLoader(chip));
        Opcode op = (config >> 2 & 7) switch
        {
            0 => Opcode.SpiFlashMd5,
            1 => Opcode.ReadReg,
            2 => Opcode.FlashData,
            3 => Opcode.GetSecurityInfo,
            4 => Opcode.ReadFlashSlow,
            5 => Opcode.Sync,
            6 => Opcode.FlashDeflData,
            _ => Opcode.MemEnd,
        };
        int expected = op switch
        {
            Opcode.SpiFlashMd5 => stub ? 16 : 32,
            Opcode.GetSecurityInfo => CommandClient.SecurityInfoLength,
            Opcode.ReadFlashSlow => 64,
            _ => 0,
        };
        for (int i = 0; i < 16; i++)
        {
            try
            {
                var reply = client.ReadReplyAsync(op, TimeSpan.FromSeconds(5), expected, CancellationToken.None).GetAwaiter().GetResult();
                if (op == Opcode.GetSecurityInfo && reply.Data.Length >= 12) SecurityInfo.Parse(reply.Data);
            }
            catch (EspException ex) when (ex.Code == EspErrorCode.Disconnected)
            {
                return; // end of input
            }
            catch (EspException)
            {
                // rejected this frame; try the next
            }
        }
    }

    public static void EspImageParse(byte[] input)
    {
        var chip = input.Length > 0 && (input[^1] & 1) != 0 ? ChipDatabase.Esp32 : null;
        var image = EspImage.Parse(input, chip);
        ImageInfo.Describe(image, chip);
        EspImage.TryParse(input, ChipDatabase.Get("esp8266"), out _);
    }

    public static void IntelHexParse(byte[] input)
    {
        var hex = IntelHex.Parse(input);
        if (hex.Runs.Count > 0 && hex.Runs.Sum(r => (long)r.Data.Length) < 1 << 20)
            IntelHex.Parse(IntelHex.Write(hex.Runs, hex.StartLinearAddress));
    }

    public static void Elf(byte[] input)
    {
        var chip = input.Length > 18 && input[18] == 0xF3 ? ChipDatabase.Get("esp32c3") : ChipDatabase.Esp32;
        var image = ElfToImage.Convert(input, chip);
        image.ToBytes();
    }

    public static void Partitions(byte[] input)
    {
        PartitionTable.Parse(input, validate: false);
        PartitionTable.Parse(input);
    }

    public static void SfdpParse(byte[] input) => SfdpInfo.Parse(input);

    public static void StubJson(byte[] input) => StubImage.Parse(Encoding.UTF8.GetString(input), "fuzz");

    public static void SecurityInfoParse(byte[] input)
    {
        if (input.Length >= 12) SecurityInfo.Parse(input);
    }

    /// <summary>A transport that hands out fixed bytes, then reports the link closed.</summary>
    private sealed class BytesTransport(ReadOnlyMemory<byte> data) : IEspTransport
    {
        private int _pos;
        public string Name => "fuzz";
        public int BaudRate => 115200;
        public bool SupportsLineControl => false;
        public (int Vid, int Pid)? UsbId => null;
        public Task SetBaudRateAsync(int baud, CancellationToken cancellationToken = default) => Task.CompletedTask;
        public Task WriteAsync(ReadOnlyMemory<byte> d, CancellationToken cancellationToken = default) => Task.CompletedTask;
        public Task SetLinesAsync(bool? dtr, bool? rts, CancellationToken cancellationToken = default) => Task.CompletedTask;
        public void DiscardInput() { }
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        public Task<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int n = Math.Min(buffer.Length, Math.Min(97, data.Length - _pos));
            data.Slice(_pos, n).CopyTo(buffer);
            _pos += n;
            return Task.FromResult(n);
        }
    }
}
