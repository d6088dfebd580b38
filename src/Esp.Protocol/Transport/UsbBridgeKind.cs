namespace Esp.Protocol.Transport;

/// <summary>The USB-to-UART bridges ESP boards carry.</summary>
public enum UsbBridgeKind
{
    /// <summary>Not a known ESP bridge (or not USB at all).</summary>
    None,
    /// <summary>Silicon Labs CP210x (10C4:EA60; the CP2102C's 10C4:EA64 too).</summary>
    Cp210x,
    /// <summary>WCH CH340 / CH341 / CH9102 (1A86:*).</summary>
    Ch34x,
    /// <summary>FTDI (0403:*).</summary>
    Ftdi,
    /// <summary>The chip's own USB-Serial-JTAG peripheral (303A:1001).</summary>
    EspressifUsbJtagSerial,
    /// <summary>Another Espressif USB device (303A:*, e.g. USB-OTG CDC).</summary>
    EspressifUsb,
}
