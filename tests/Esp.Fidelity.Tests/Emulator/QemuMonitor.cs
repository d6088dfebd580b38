using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Esp.Fidelity.Tests.Emulator;

/// <summary>QEMU's human monitor on its Unix socket: reads registers and memory of the emulated chip.</summary>
public static partial class QemuMonitor
{
    public static async Task<string> RunAsync(string socketPath, string command)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
        await ReadUntilPromptAsync(socket);
        await socket.SendAsync(Encoding.ASCII.GetBytes(command + "\n"));
        return Escapes().Replace(await ReadUntilPromptAsync(socket), "");
    }

    /// <summary>One 32-bit word of physical memory (a peripheral register).</summary>
    public static async Task<uint> ReadWordAsync(string socketPath, uint address)
    {
        var text = await RunAsync(socketPath, $"xp /1wx 0x{address:x}");
        var m = Regex.Match(text, @":\s+0x([0-9a-fA-F]{8})");
        if (!m.Success) throw new InvalidOperationException($"QEMU monitor: no value for 0x{address:X8} in '{text}'");
        return uint.Parse(m.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }

    /// <summary>A CPU register as 'info registers' shows it (e.g. mip, mstatus).</summary>
    public static async Task<uint> ReadCpuRegisterAsync(string socketPath, string name)
    {
        var text = await RunAsync(socketPath, "info registers");
        var m = Regex.Match(text, $@"\b{name}\s+([0-9a-fA-F]+)");
        if (!m.Success) throw new InvalidOperationException($"QEMU monitor: no register {name}");
        return uint.Parse(m.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }

    private static async Task<string> ReadUntilPromptAsync(Socket socket)
    {
        var all = new StringBuilder();
        var buffer = new byte[65536];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        while (!all.ToString().EndsWith("(qemu) ", StringComparison.Ordinal))
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            if (n == 0) break;
            all.Append(Encoding.Latin1.GetString(buffer, 0, n));
        }
        return all.ToString();
    }

    [GeneratedRegex(@"\x1b\[[0-9;]*[A-Za-z]")]
    private static partial Regex Escapes();
}
