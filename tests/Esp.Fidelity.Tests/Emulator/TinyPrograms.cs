using System.Buffers.Binary;
using System.Text;
using Esp.Protocol.Operations;

namespace Esp.Fidelity.Tests.Emulator;

/// <summary>
/// Small RAM programs, assembled here instruction by instruction, that print a line over UART0 forever. load_ram
/// starts them on the emulated chip; the test reads what they print. No toolchain is needed.
/// </summary>
public static class TinyPrograms
{
    /// <summary>The program for <paramref name="chip"/> and its entry point.</summary>
    public static (RamSegment Segment, uint Entry) Printer(string chip, string message) => chip switch
    {
        "esp32c3" => RiscV(0x40390000, 0x60000000, message),
        "esp32" => Xtensa(0x40090000, 0x3FF40000, message),
        _ => throw new ArgumentException($"no tiny program for {chip}"),
    };

    // ---------------------------------------------------------------- RISC-V (RV32I), ESP32-C3

    private static (RamSegment, uint) RiscV(uint at, uint uartFifo, string message)
    {
        // start: lui t0, uart; auipc t1, 0; addi t1, t1, (msg - start - 4)
        // loop:  lbu t2, 0(t1); beq t2, x0, pause; sw t2, 0(t0); addi t1, t1, 1; jal x0, loop
        // pause: lui t3, 0x100; wait: addi t3, t3, -1; bne t3, x0, wait; jal x0, start
        const int t0 = 5, t1 = 6, t2 = 7, t3 = 28;
        var code = new List<uint>
        {
            Lui(t0, uartFifo),
            Auipc(t1, 0),
            0, // addi t1, t1, msg offset (patched below)
            Lbu(t2, t1, 0),
            Branch(0b000, t2, 0, 4 * 4),   // beq t2, x0, pause (+16)
            Sw(t2, t0, 0),
            Addi(t1, t1, 1),
            Jal(0, -4 * 4),                 // back to lbu
            Lui(t3, 0x100 << 12),
            Addi(t3, t3, -1),
            Branch(0b001, t3, 0, -4),       // bne t3, x0, -4
            Jal(0, -11 * 4),                // back to start
        };
        code[2] = Addi(t1, t1, code.Count * 4 - 4); // msg follows the code; auipc is at start + 4
        return Segment(at, code, message);
    }

    private static uint Lui(int rd, uint upper) => (upper & 0xFFFFF000) | (uint)(rd << 7) | 0b0110111;
    private static uint Auipc(int rd, uint upper) => (upper & 0xFFFFF000) | (uint)(rd << 7) | 0b0010111;
    private static uint Addi(int rd, int rs1, int imm) => ((uint)(imm & 0xFFF) << 20) | (uint)(rs1 << 15) | (uint)(rd << 7) | 0b0010011;
    private static uint Lbu(int rd, int rs1, int imm) => ((uint)(imm & 0xFFF) << 20) | (uint)(rs1 << 15) | (0b100u << 12) | (uint)(rd << 7) | 0b0000011;
    private static uint Sw(int rs2, int rs1, int imm) =>
        ((uint)((imm >> 5) & 0x7F) << 25) | (uint)(rs2 << 20) | (uint)(rs1 << 15) | (0b010u << 12) | ((uint)(imm & 0x1F) << 7) | 0b0100011;

    private static uint Branch(uint funct3, int rs1, int rs2, int offset)
    {
        uint o = (uint)offset;
        return (((o >> 12) & 1) << 31) | (((o >> 5) & 0x3F) << 25) | (uint)(rs2 << 20) | (uint)(rs1 << 15) | (funct3 << 12)
            | (((o >> 1) & 0xF) << 8) | (((o >> 11) & 1) << 7) | 0b1100011;
    }

    private static uint Jal(int rd, int offset)
    {
        uint o = (uint)offset;
        return (((o >> 20) & 1) << 31) | (((o >> 1) & 0x3FF) << 21) | (((o >> 11) & 1) << 20) | (((o >> 12) & 0xFF) << 12)
            | (uint)(rd << 7) | 0b1101111;
    }

    private static (RamSegment, uint) Segment(uint at, List<uint> code, string message)
    {
        var bytes = new List<byte>();
        foreach (var w in code) bytes.AddRange(BitConverter.GetBytes(w));
        bytes.AddRange(Encoding.ASCII.GetBytes(message));
        bytes.Add(0);
        while (bytes.Count % 4 != 0) bytes.Add(0);
        return (new RamSegment(at, bytes.ToArray()), at);
    }

    // ---------------------------------------------------------------- Xtensa (LX6), ESP32

    private static (RamSegment, uint) Xtensa(uint at, uint uartFifo, string message)
    {
        // Literals first (L32R loads from below the PC): the UART FIFO address, the message address, a delay count.
        // entry: l32r a2, uart; l32r a3, msg
        // loop:  l8ui a4, a3, 0; beqz a4, pause; s32i a4, a2, 0; addi a3, a3, 1; j loop
        // pause: l32r a5, delay; wait: addi a5, a5, -1; bnez a5, wait; j entry
        var code = new List<byte>();
        uint literals = at;
        const int literalCount = 3;
        uint entry = at + 4 * literalCount;
        var messageAt = new byte[4];
        code.AddRange(BitConverter.GetBytes(uartFifo));
        code.AddRange(messageAt);                         // patched once the code length is known
        code.AddRange(BitConverter.GetBytes(0x100000u));  // delay loop count
        uint Pc() => at + (uint)code.Count;
        void Emit3(uint insn) { code.Add((byte)insn); code.Add((byte)(insn >> 8)); code.Add((byte)(insn >> 16)); }
        uint L32r(int t, uint literal)
        {
            long offset = (long)literal - ((Pc() + 3) & ~3u);
            return (((uint)(offset >> 2) & 0xFFFF) << 8) | (uint)(t << 4) | 0b0001;
        }
        static uint Rri8(int r, int s, int t, int imm8) => ((uint)(imm8 & 0xFF) << 16) | (uint)(r << 12) | (uint)(s << 8) | (uint)(t << 4) | 0b0010;
        uint Bz(int m, int s, uint target) => ((uint)((target - Pc() - 4) & 0xFFF) << 12) | (uint)(s << 8) | (uint)(m << 6) | (1u << 4) | 0b0110;
        uint J(uint target) => (((target - Pc() - 4) & 0x3FFFF) << 6) | 0b0110;

        Emit3(L32r(2, literals));          // a2 = UART FIFO
        Emit3(L32r(3, literals + 4));      // a3 = message
        uint loop = Pc();
        Emit3(Rri8(0x0, 3, 4, 0));         // l8ui a4, a3, 0
        int beqzAt = code.Count;
        Emit3(0);                          // beqz a4, pause (patched)
        Emit3(Rri8(0x6, 2, 4, 0));         // s32i a4, a2, 0
        Emit3(Rri8(0xC, 3, 3, 1));         // addi a3, a3, 1
        Emit3(J(loop));                    // j loop
        uint pause = Pc();
        Emit3(L32r(5, literals + 8));      // a5 = delay
        uint wait = Pc();
        Emit3(Rri8(0xC, 5, 5, -1));        // addi a5, a5, -1
        Emit3(Bz(1, 5, wait));             // bnez a5, wait
        Emit3(J(entry));                   // j entry
        // beqz a4, pause
        uint beqzPc = at + (uint)beqzAt;
        uint beqz = ((uint)((pause - beqzPc - 4) & 0xFFF) << 12) | (4u << 8) | (0u << 6) | (1u << 4) | 0b0110;
        code[beqzAt] = (byte)beqz; code[beqzAt + 1] = (byte)(beqz >> 8); code[beqzAt + 2] = (byte)(beqz >> 16);

        while (code.Count % 4 != 0) code.Add(0);
        BinaryPrimitives.WriteUInt32LittleEndian(messageAt, at + (uint)code.Count);
        for (int i = 0; i < 4; i++) code[4 + i] = messageAt[i];
        code.AddRange(Encoding.ASCII.GetBytes(message));
        code.Add(0);
        while (code.Count % 4 != 0) code.Add(0);
        return (new RamSegment(at, code.ToArray()), entry);
    }
}
