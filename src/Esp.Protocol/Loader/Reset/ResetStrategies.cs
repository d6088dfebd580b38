using Esp.Protocol.Errors;
using Esp.Protocol.Transport;

namespace Esp.Protocol.Loader.Reset;

/// <summary>Chooses the reset strategies the connect loop cycles through, as esptool does.</summary>
public static class ResetStrategies
{
    /// <summary>The <c>--before</c> values (underscore spellings are accepted too).</summary>
    public static readonly IReadOnlyList<string> BeforeModes = ["default-reset", "usb-reset", "no-reset", "no-reset-no-sync"];

    /// <summary>USB id of adapters whose CTS is tied to the chip's RTS (SiLabs CP2102C).</summary>
    public static bool UsesHardwareFlowControl((int Vid, int Pid)? usbId) => usbId is (0x10C4, 0xEA64);

    /// <summary>Normalises a <c>--before</c> value (<c>default_reset</c> → <c>default-reset</c>).</summary>
    /// <exception cref="EspException">InvalidArgument for an unknown mode.</exception>
    public static string NormalizeBefore(string? before)
    {
        var mode = string.IsNullOrWhiteSpace(before) ? "default-reset" : ConnectOptions.Mode(before);
        if (!BeforeModes.Contains(mode))
            throw new EspException(EspErrorCode.InvalidArgument,
                $"Unknown reset mode '{before}'.", $"Use one of: {string.Join(", ", BeforeModes)}.");
        return mode;
    }

    /// <summary>
    /// The strategies tried in turn (cyclically) for <paramref name="before"/>. No-reset modes and TCP sockets
    /// give a single <see cref="NoReset"/>; a custom sequence replaces everything else; usb-reset or a
    /// USB-Serial-JTAG port (PID 0x1001) gives only the USB-JTAG sequence; POSIX serial ports get
    /// UnixTight(0.05), UnixTight(0.55), Classic(0.05), Classic(0.55); Windows and RFC 2217 get the two
    /// Classic ones. <paramref name="resetDelay"/> (config <c>reset_delay</c>) replaces both delays.
    /// </summary>
    public static IReadOnlyList<ResetStrategy> For(
        string before,
        IEspTransport transport,
        string? customSequence = null,
        TimeSpan? resetDelay = null,
        bool? windows = null)
    {
        ArgumentNullException.ThrowIfNull(transport);
        var mode = NormalizeBefore(before);
        var scheme = TransportFactory.SchemeOf(transport.Name);
        if (mode is "no-reset" or "no-reset-no-sync" || scheme == "socket")
            return [new NoReset()];

        if (!string.IsNullOrWhiteSpace(customSequence))
            return [CustomResetSequence.Parse(customSequence)];

        if (mode == "usb-reset" || transport.UsbId is (_, PortDiscovery.UsbJtagSerialPid))
            return [new UsbJtagSerialReset()];

        var delay = resetDelay ?? ResetStrategy.DefaultResetDelay;
        var extra = resetDelay ?? ResetStrategy.ExtraResetDelay;
        bool flow = UsesHardwareFlowControl(transport.UsbId);
        bool isWindows = windows ?? OperatingSystem.IsWindows();
        if (!isWindows && scheme != "rfc2217")
            return
            [
                new UnixTightReset(delay, flow),
                new UnixTightReset(extra, flow),
                new ClassicReset(delay, flow),
                new ClassicReset(extra, flow),
            ];
        return [new ClassicReset(delay, flow), new ClassicReset(extra, flow)];
    }

    /// <summary>The reset after an operation (<c>--after hard-reset</c>), or a custom hard-reset sequence.</summary>
    public static ResetStrategy HardResetFor(IEspTransport transport, bool usesUsb, string? customSequence = null)
    {
        ArgumentNullException.ThrowIfNull(transport);
        if (!string.IsNullOrWhiteSpace(customSequence)) return CustomResetSequence.Parse(customSequence);
        return new HardReset(usesUsb, UsesHardwareFlowControl(transport.UsbId));
    }
}
