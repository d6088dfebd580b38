using System.Runtime.InteropServices;

namespace Esp.Simulator;

/// <summary>
/// A pseudo-terminal owned by the simulator (openpty via libc). The slave end stays open inside this process so
/// clients can close and reopen the path; <see cref="Path"/> is a symlink to the slave device when a link path is
/// given. Serial tools open it like any tty (DTR/RTS ioctls fail on a pty: use esptool <c>--before no_reset</c>).
/// </summary>
public sealed partial class PtyHost : IDisposable
{
    private readonly VirtualChip _chip;
    private readonly int _master, _slave;
    private readonly Stream _host;
    private readonly Thread _up, _down;
    private readonly string? _link;
    private volatile bool _stop;

    public PtyHost(VirtualChip chip, string? linkPath = null)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) throw new PlatformNotSupportedException("Pseudo-terminals need Linux or macOS.");
        _chip = chip;
        if (OpenPty(out _master, out _slave) != 0) throw new IOException($"openpty failed (errno {Marshal.GetLastPInvokeError()}).");
        var name = Marshal.PtrToStringAnsi(ttyname(_slave)) ?? throw new IOException("ttyname failed");
        DevicePath = name;
        var termios = new byte[256];
        if (tcgetattr(_slave, termios) == 0)
        {
            cfmakeraw(termios);
            tcsetattr(_slave, 0, termios);
        }
        if (linkPath is not null)
        {
            var full = System.IO.Path.GetFullPath(linkPath);
            if (File.Exists(full) || new FileInfo(full).LinkTarget is not null) File.Delete(full);
            File.CreateSymbolicLink(full, name);
            _link = full;
        }
        _host = chip.OpenHostStream();
        _up = new Thread(Up) { IsBackground = true, Name = "pty->chip" };
        _down = new Thread(Down) { IsBackground = true, Name = "chip->pty" };
        _up.Start();
        _down.Start();
    }

    /// <summary>The slave device (e.g. /dev/pts/5).</summary>
    public string DevicePath { get; }

    /// <summary>The path to give to tools: the symlink if one was requested, else the device.</summary>
    public string Path => _link ?? DevicePath;

    private unsafe void Up()
    {
        var buf = new byte[4096];
        while (!_stop)
        {
            var pfd = new PollFd { Fd = _master, Events = 1 };
            if (poll(ref pfd, 1, 200) <= 0) continue;
            nint n;
            fixed (byte* p = buf) n = read(_master, p, buf.Length);
            if (n <= 0) { Thread.Sleep(20); continue; }
            try { _host.Write(buf, 0, (int)n); } catch (IOException) { } catch (ObjectDisposedException) { return; }
        }
    }

    private unsafe void Down()
    {
        var buf = new byte[4096];
        while (!_stop)
        {
            int n;
            try { n = _host.Read(buf, 0, buf.Length); } catch (ObjectDisposedException) { return; }
            if (n <= 0) return;
            var off = 0;
            while (off < n && !_stop)
            {
                nint w;
                fixed (byte* p = buf) w = write(_master, p + off, n - off);
                if (w <= 0) { Thread.Sleep(5); continue; }
                off += (int)w;
            }
        }
    }

    public void Dispose()
    {
        _stop = true;
        _host.Dispose();
        _up.Join(TimeSpan.FromSeconds(2));
        _down.Join(TimeSpan.FromSeconds(2));
        close(_master);
        close(_slave);
        if (_link is not null) try { File.Delete(_link); } catch (IOException) { }
    }

    private static int OpenPty(out int master, out int slave)
    {
        try { return openpty(out master, out slave, 0, 0, 0); }
        catch (EntryPointNotFoundException) { return openpty_util(out master, out slave, 0, 0, 0); }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd { public int Fd; public short Events; public short Revents; }

    [LibraryImport("libc", SetLastError = true)] private static partial int openpty(out int master, out int slave, nint name, nint termp, nint winp);
    [LibraryImport("libutil", EntryPoint = "openpty", SetLastError = true)] private static partial int openpty_util(out int master, out int slave, nint name, nint termp, nint winp);
    [LibraryImport("libc")] private static partial nint ttyname(int fd);
    [LibraryImport("libc")] private static partial int tcgetattr(int fd, [Out] byte[] termios);
    [LibraryImport("libc")] private static partial void cfmakeraw([In, Out] byte[] termios);
    [LibraryImport("libc")] private static partial int tcsetattr(int fd, int action, [In] byte[] termios);
    [LibraryImport("libc", SetLastError = true)] private static partial int poll(ref PollFd fds, int n, int timeout);
    [LibraryImport("libc", SetLastError = true)] private static unsafe partial nint read(int fd, byte* buf, nint count);
    [LibraryImport("libc", SetLastError = true)] private static unsafe partial nint write(int fd, byte* buf, nint count);
    [LibraryImport("libc")] private static partial int close(int fd);
}
