using System.IO.Ports;
using System.Reflection;
using System.Runtime.InteropServices;
using Esp.Protocol.Errors;
using Esp.Protocol.Transport.Native;

namespace Esp.Protocol.Transport;

/// <summary>
/// A local serial port (device path or COM name) through System.IO.Ports. On Linux and macOS DTR and RTS are
/// driven with TIOCMGET/TIOCMSET on the port's descriptor, so both can change in one call, and the port is
/// locked (TIOCEXCL + flock) so that a second program gets a clear "in use" error.
/// </summary>
public sealed class SerialTransport : IEspTransport, IModemLineState
{
    private readonly SerialPort _port;
    private readonly Stream _stream;
    private readonly SafeHandle? _handle;      // the port's own descriptor, referenced while we use it
    private readonly int _ownedControlFd = -1;  // a second descriptor, only when the first one is unreachable
    private readonly int _fd = -1;
    private readonly Lock _lineLock = new();
    private bool _supportsLineControl;
    private bool _dtr;
    private bool _rts;
    private int _disposed;

    private SerialTransport(string name, SerialPort port, SafeHandle? handle, int fd, int ownedControlFd, bool supportsLineControl, (int, int)? usbId)
    {
        Name = name;
        _port = port;
        _stream = port.BaseStream;
        _handle = handle;
        _fd = fd;
        _ownedControlFd = ownedControlFd;
        _supportsLineControl = supportsLineControl;
        UsbId = usbId;
    }

    /// <summary>Opens <paramref name="port"/> at <see cref="TransportOptions.BaudRate"/>.</summary>
    /// <exception cref="EspException">PortNotFound, PortBusy or InvalidArgument (baud rate).</exception>
    public static SerialTransport Open(string port, TransportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(port))
            throw new EspException(EspErrorCode.PortNotSpecified, "No serial port was given.");
        if (!OperatingSystem.IsWindows() && !File.Exists(port))
            throw new EspException(EspErrorCode.PortNotFound, $"The serial port '{port}' does not exist.");

        var serial = new SerialPort(port)
        {
            ReadTimeout = SerialPort.InfiniteTimeout,
            WriteTimeout = 10_000,
            Handshake = Handshake.None,
            DataBits = 8,
            Parity = Parity.None,
            StopBits = StopBits.One,
        };
        try
        {
            serial.BaudRate = options.BaudRate;
        }
        catch (ArgumentOutOfRangeException ex)
        {
            serial.Dispose();
            throw new EspException(EspErrorCode.InvalidArgument, $"The baud rate {options.BaudRate} is not valid.", inner: ex);
        }

        try
        {
            serial.Open();
        }
        catch (Exception ex)
        {
            serial.Dispose();
            throw MapOpenFailure(port, ex);
        }

        try
        {
            return OperatingSystem.IsWindows() ? new SerialTransport(port, serial, null, -1, -1, true, null) : FinishUnixOpen(port, serial);
        }
        catch
        {
            serial.Dispose();
            throw;
        }
    }

    private static EspException MapOpenFailure(string port, Exception ex) => ex switch
    {
        FileNotFoundException or DirectoryNotFoundException =>
            new EspException(EspErrorCode.PortNotFound, $"The serial port '{port}' does not exist.", inner: ex),
        UnauthorizedAccessException when OperatingSystem.IsWindows() || File.Exists(port) =>
            new EspException(EspErrorCode.PortBusy,
                $"The serial port '{port}' could not be opened: it is in use by another program, or access is denied ({ex.Message}).",
                OperatingSystem.IsLinux()
                    ? "Close the other program that holds the port; if none does, add your user to the group that owns the device (usually 'dialout') and log in again."
                    : null,
                ex),
        IOException when !OperatingSystem.IsWindows() && !File.Exists(port) =>
            new EspException(EspErrorCode.PortNotFound, $"The serial port '{port}' does not exist.", inner: ex),
        IOException or InvalidOperationException =>
            new EspException(EspErrorCode.PortBusy, $"The serial port '{port}' could not be opened ({ex.Message}).", inner: ex),
        ArgumentException when OperatingSystem.IsWindows() =>
            new EspException(EspErrorCode.PortNotFound, $"'{port}' is not a serial port name.", inner: ex),
        _ => new EspException(EspErrorCode.PortBusy, $"The serial port '{port}' could not be opened ({ex.Message}).", inner: ex),
    };

    private static SerialTransport FinishUnixOpen(string port, SerialPort serial)
    {
        SafeHandle? handle = FindHandle(serial.BaseStream);
        int fd = -1, ownFd = -1;
        bool addedRef = false;
        if (handle is not null)
        {
            handle.DangerousAddRef(ref addedRef);
            fd = (int)handle.DangerousGetHandle();
        }
        else
        {
            ownFd = UnixSerialNative.OpenForControl(port);
            fd = ownFd;
        }

        try
        {
            if (fd >= 0)
            {
                // TIOCEXCL makes the kernel refuse further opens by ordinary users; flock is what stops root and
                // well-behaved tools (pyserial's exclusive mode, other instances of this library).
                _ = UnixSerialNative.SetExclusive(fd);
                int lockError = UnixSerialNative.TryLockExclusive(fd);
                if (lockError == UnixSerialNative.EWOULDBLOCK)
                    throw new EspException(EspErrorCode.PortBusy,
                        $"The serial port '{port}' is in use by another program (it holds an exclusive lock on it).");
            }

            bool lines = fd >= 0 && UnixSerialNative.GetModemBits(fd, out _) == 0;
            return new SerialTransport(port, serial, addedRef ? handle : null, fd, ownFd, lines, SafeUsbId(port));
        }
        catch
        {
            if (addedRef) handle!.DangerousRelease();
            if (ownFd >= 0) UnixSerialNative.Close(ownFd);
            throw;
        }
    }

    /// <summary>The Unix SerialStream keeps its descriptor in a private SafeHandle field.</summary>
    private static SafeHandle? FindHandle(Stream stream)
    {
        for (var type = stream.GetType(); type is not null && type != typeof(Stream); type = type.BaseType)
        {
            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public))
            {
                if (typeof(SafeHandle).IsAssignableFrom(field.FieldType) && field.GetValue(stream) is SafeHandle h && !h.IsInvalid && !h.IsClosed)
                    return h;
            }
        }
        return null;
    }

    private static (int, int)? SafeUsbId(string port)
    {
        try
        {
            return OperatingSystem.IsLinux() ? PortDiscovery.UsbIdOf(port) : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    public string Name { get; }

    public int BaudRate => _port.BaudRate;

    /// <summary>False when the device refuses modem-control requests (a pseudo-terminal, some USB gadgets).</summary>
    public bool SupportsLineControl => _supportsLineControl;

    public (int Vid, int Pid)? UsbId { get; }

    /// <summary>True when modem-control ioctls go to the port's own descriptor (not a second one).</summary>
    internal bool UsesPortDescriptor => _handle is not null;

    public bool Dtr => _dtr;

    public bool Rts => _rts;

    public Task SetBaudRateAsync(int baud, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            _port.BaudRate = baud;
        }
        catch (Exception ex) when (ex is ArgumentOutOfRangeException or IOException)
        {
            throw new EspException(EspErrorCode.InvalidArgument,
                $"The port '{Name}' did not accept the baud rate {baud} ({ex.Message}).",
                "Choose a baud rate the USB bridge supports (e.g. 115200, 460800, 921600).", ex);
        }
        catch (InvalidOperationException ex)
        {
            throw Closed(ex);
        }
        return Task.CompletedTask;
    }

    public async Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        try
        {
            await _stream.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            throw Closed(ex);
        }
    }

    public async Task<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty) return 0;
        try
        {
            return await _stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or TimeoutException)
        {
            throw Closed(ex);
        }
    }

    public void DiscardInput()
    {
        try
        {
            _port.DiscardInBuffer();
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException)
        {
            throw Closed(ex);
        }
    }

    public Task SetLinesAsync(bool? dtr, bool? rts, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!_supportsLineControl) throw Unsupported(null);
        if (dtr is null && rts is null) return Task.CompletedTask;
        lock (_lineLock)
        {
            if (_fd >= 0) SetLinesUnix(dtr, rts);
            else SetLinesPortable(dtr, rts);
            if (dtr is { } d) _dtr = d;
            if (rts is { } r) _rts = r;
        }
        return Task.CompletedTask;
    }

    private void SetLinesUnix(bool? dtr, bool? rts)
    {
        int err = UnixSerialNative.GetModemBits(_fd, out int bits);
        if (err == 0)
        {
            bits = Apply(bits, UnixSerialNative.TIOCM_DTR, dtr);
            bits = Apply(bits, UnixSerialNative.TIOCM_RTS, rts);
            err = UnixSerialNative.SetModemBits(_fd, bits);
        }
        if (err == 0) return;
        if (err is UnixSerialNative.ENOTTY or UnixSerialNative.EINVAL)
        {
            _supportsLineControl = false;
            throw Unsupported(UnixSerialNative.Describe(err));
        }
        throw new EspException(EspErrorCode.Disconnected,
            $"Setting DTR/RTS on '{Name}' failed ({UnixSerialNative.Describe(err)}); the device may have been unplugged.");

        static int Apply(int bits, int mask, bool? on) => on switch
        {
            true => bits | mask,
            false => bits & ~mask,
            null => bits,
        };
    }

    private void SetLinesPortable(bool? dtr, bool? rts)
    {
        try
        {
            if (dtr is { } d) _port.DtrEnable = d;
            if (rts is { } r) _port.RtsEnable = r;
        }
        catch (IOException ex)
        {
            _supportsLineControl = false;
            throw Unsupported(ex.Message);
        }
        catch (InvalidOperationException ex)
        {
            throw Closed(ex);
        }
    }

    private EspException Unsupported(string? reason) =>
        new(EspErrorCode.LineControlUnsupported,
            $"The port '{Name}' cannot drive DTR/RTS{(reason is null ? "" : $" ({reason})")}, so the chip cannot be reset into download mode automatically.",
            "Put the chip in download mode by hand (hold BOOT, press EN/RESET) and use --before no-reset (EspBefore=no-reset).");

    private EspException Closed(Exception ex) =>
        new(EspErrorCode.Disconnected, $"The link to '{Name}' failed: {ex.Message}", inner: ex);

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return ValueTask.CompletedTask;
        _handle?.DangerousRelease();
        if (_ownedControlFd >= 0) UnixSerialNative.Close(_ownedControlFd);
        try
        {
            _port.Dispose();
        }
        catch (IOException)
        {
            // The device may already be gone; there is nothing left to release.
        }
        return ValueTask.CompletedTask;
    }
}
