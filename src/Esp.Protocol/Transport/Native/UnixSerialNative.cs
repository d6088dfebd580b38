using System.Runtime.InteropServices;

namespace Esp.Protocol.Transport.Native;

/// <summary>
/// The few libc calls the serial transport needs on Linux and macOS: modem-control ioctls (so DTR and RTS
/// change in one system call), an exclusive advisory lock, and path resolution for sysfs.
/// </summary>
internal static unsafe partial class UnixSerialNative
{
    private const string Libc = "libc";

    public const int ENOTTY = 25;
    public const int EINVAL = 22;
    public const int EBUSY = 16;
    public static int EWOULDBLOCK => OperatingSystem.IsMacOS() ? 35 : 11;

    public const int TIOCM_DTR = 0x002;
    public const int TIOCM_RTS = 0x004;

    private const int LOCK_EX = 2;
    private const int LOCK_NB = 4;

    private const int O_RDWR = 2;
    private static int O_NOCTTY => OperatingSystem.IsMacOS() ? 0x20000 : 0x100;
    private static int O_NONBLOCK => OperatingSystem.IsMacOS() ? 0x4 : 0x800;

    // Linux uses the classic numbers; macOS encodes direction and size (_IOR/_IOW/_IO on 't').
    private static nuint TIOCMGET => OperatingSystem.IsMacOS() ? (nuint)0x4004746A : (nuint)0x5415;
    private static nuint TIOCMSET => OperatingSystem.IsMacOS() ? (nuint)0x8004746D : (nuint)0x5418;
    private static nuint TIOCEXCL => OperatingSystem.IsMacOS() ? (nuint)0x2000740D : (nuint)0x540C;

    /// <summary>
    /// ioctl is variadic. On Apple arm64 variadic arguments travel on the stack, so the six unused integer
    /// registers are filled first to push the real argument there; everywhere else the plain form is correct.
    /// </summary>
    [LibraryImport(Libc, EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlPtr(int fd, nuint request, void* arg);

    [LibraryImport(Libc, EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlPtrAppleArm64(int fd, nuint request, nint r2, nint r3, nint r4, nint r5, nint r6, nint r7, void* arg);

    [LibraryImport(Libc, EntryPoint = "flock", SetLastError = true)]
    private static partial int FlockNative(int fd, int operation);

    [LibraryImport(Libc, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenNative(string path, int flags);

    [LibraryImport(Libc, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport(Libc, EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint RealPathNative(string path, nint resolved);

    [LibraryImport(Libc, EntryPoint = "free")]
    private static partial void Free(nint ptr);

    private static bool AppleArm64 => OperatingSystem.IsMacOS() && RuntimeInformation.ProcessArchitecture == Architecture.Arm64;

    private static int Ioctl(int fd, nuint request, void* arg) =>
        AppleArm64 ? IoctlPtrAppleArm64(fd, request, 0, 0, 0, 0, 0, 0, arg) : IoctlPtr(fd, request, arg);

    /// <summary>Reads the modem-control bits; returns 0 or the errno.</summary>
    public static int GetModemBits(int fd, out int bits)
    {
        int value = 0;
        int rc = Ioctl(fd, TIOCMGET, &value);
        bits = value;
        return rc == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>Writes the modem-control bits in one call; returns 0 or the errno.</summary>
    public static int SetModemBits(int fd, int bits)
    {
        int value = bits;
        return Ioctl(fd, TIOCMSET, &value) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>Asks the tty layer to refuse further opens (root is exempt); returns 0 or the errno.</summary>
    public static int SetExclusive(int fd) => Ioctl(fd, TIOCEXCL, null) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>Takes a non-blocking exclusive advisory lock; returns 0 or the errno.</summary>
    public static int TryLockExclusive(int fd) => FlockNative(fd, LOCK_EX | LOCK_NB) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>Opens a second descriptor to a tty without making it the controlling terminal; -1 on failure.</summary>
    public static int OpenForControl(string path) => OpenNative(path, O_RDWR | O_NOCTTY | O_NONBLOCK);

    /// <summary>The canonical path with every symbolic link resolved, or null.</summary>
    public static string? RealPath(string path)
    {
        nint p = RealPathNative(path, 0);
        if (p == 0) return null;
        try
        {
            return Marshal.PtrToStringUTF8(p);
        }
        finally
        {
            Free(p);
        }
    }

    public static string Describe(int errno) => errno switch
    {
        ENOTTY => "Inappropriate ioctl for device",
        EINVAL => "Invalid argument",
        EBUSY => "Device or resource busy",
        _ when errno == EWOULDBLOCK => "Resource temporarily unavailable (locked by another process)",
        _ => $"errno {errno}",
    };
}
