namespace Esp.Simulator;

/// <summary>Unwinds the chip thread out of a command when a reset or power cycle arrives.</summary>
internal sealed class ChipInterruptedException : Exception
{
    public ChipInterruptedException() : base("chip interrupted") { }
}
