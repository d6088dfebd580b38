using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Esp.Protocol.Tests.Transport;

/// <summary>A pseudo-terminal made in-process with openpty: the test plays the device on the master side.</summary>
internal sealed class Pty : IDisposable
{
    [DllImport("libc", EntryPoint = "openpty", SetLastError = true)]
    private static extern int OpenPtyLibc(out int master, out int slave, IntPtr name, IntPtr termp, IntPtr winp);

    [DllImport("libutil.so.1", EntryPoint = "openpty", SetLastError = true)]
    private static extern int OpenPtyLibUtil(out int master, out int slave, IntPtr name, IntPtr termp, IntPtr winp);

    [DllImport("libc", EntryPoint = "ttyname")]
    private static extern IntPtr TtyName(int fd);

    [DllImport("libc", EntryPoint = "close")]
    private static extern int Close(int fd);

    private readonly int _slave;

    public Pty()
    {
        int rc, master, slave;
        try
        {
            rc = OpenPtyLibc(out master, out slave, IntPtr.Zero, IntPtr.Zero, IntPtr.Zero);
        }
        catch (EntryPointNotFoundException)
        {
            rc = OpenPtyLibUtil(out master, out slave, IntPtr.Zero, IntPtr.Zero, IntPtr.Zero);
        }
        if (rc != 0) throw new InvalidOperationException($"openpty failed: errno {Marshal.GetLastPInvokeError()}");
        _slave = slave; // kept open so the path stays valid while clients close and reopen it
        SlavePath = Marshal.PtrToStringUTF8(TtyName(slave)) ?? throw new InvalidOperationException("ttyname failed");
        Master = new FileStream(new SafeFileHandle(master, ownsHandle: true), FileAccess.ReadWrite, bufferSize: 0);
    }

    public string SlavePath { get; }

    /// <summary>The device side: bytes written here arrive at the port, bytes the port sends are read here.</summary>
    public FileStream Master { get; }

    /// <summary>Reads exactly <paramref name="count"/> bytes from the master, giving up after 10 s.</summary>
    public async Task<byte[]> ReadMasterAsync(int count)
    {
        var buffer = new byte[count];
        int got = 0;
        var work = Task.Run(() =>
        {
            while (got < count)
            {
                int n = Master.Read(buffer, got, count - got);
                if (n <= 0) break;
                got += n;
            }
        });
        await work.WaitAsync(TimeSpan.FromSeconds(10));
        return buffer[..got];
    }

    public void Dispose()
    {
        Master.Dispose();
        Close(_slave);
    }
}
