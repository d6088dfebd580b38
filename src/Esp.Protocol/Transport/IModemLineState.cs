namespace Esp.Protocol.Transport;

/// <summary>
/// Optional companion of <see cref="IEspTransport"/>: the DTR/RTS values the host last asked for (true =
/// asserted). Reset sequences need the current DTR to re-write it after every RTS change.
/// </summary>
public interface IModemLineState
{
    bool Dtr { get; }
    bool Rts { get; }
}
