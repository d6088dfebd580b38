using System.Buffers.Binary;

namespace Esp.Protocol.Transport;

/// <summary>
/// Telnet as RFC 2217 uses it, without any I/O: the command bytes, escaping of data, COM-PORT-OPTION frames, the
/// receive-side parser that separates data from Telnet commands, and the answers to the server's option negotiation.
/// </summary>
internal sealed class TelnetCodec
{
    // Telnet.
    internal const byte IAC = 255, DONT = 254, DO = 253, WONT = 252, WILL = 251, SB = 250, SE = 240;
    internal const byte BINARY = 0, ECHO = 1, SGA = 3, COM_PORT_OPTION = 44;

    // RFC 2217 client-to-server commands; the server answers with the same number + 100.
    internal const byte SET_BAUDRATE = 1, SET_DATASIZE = 2, SET_PARITY = 3, SET_STOPSIZE = 4, SET_CONTROL = 5, PURGE_DATA = 12;
    internal const byte ServerOffset = 100;
    internal const byte CONTROL_NO_FLOW = 1, DTR_ON = 8, DTR_OFF = 9, RTS_ON = 11, RTS_OFF = 12;
    internal const byte PARITY_NONE = 1, STOPSIZE_1 = 1;

    private enum RxState { Data, Iac, Option, Sub, SubIac }

    private readonly Dictionary<byte, bool> _weWill = [];      // our side's option state (true = enabled)
    private readonly Dictionary<byte, bool> _theyWill = [];    // the server's option state
    private readonly List<byte> _sub = new(16);
    private RxState _state = RxState.Data;
    private byte _verb;

    /// <summary>
    /// The client's opening offer: binary transmission and suppress-go-ahead in both directions, and COM-PORT-OPTION.
    /// Call it before anything is received, so that the server's answers are taken as answers.
    /// </summary>
    public byte[] Offer()
    {
        _weWill[BINARY] = _weWill[SGA] = _weWill[COM_PORT_OPTION] = false;
        _theyWill[BINARY] = _theyWill[SGA] = false;
        return [IAC, WILL, BINARY, IAC, DO, BINARY, IAC, WILL, SGA, IAC, DO, SGA, IAC, WILL, COM_PORT_OPTION];
    }

    /// <summary>Doubles every 0xFF so that data bytes are never read as Telnet commands.</summary>
    public static byte[] Escape(ReadOnlySpan<byte> data)
    {
        int extra = data.Count(IAC);
        if (extra == 0) return data.ToArray();
        var result = new byte[data.Length + extra];
        int j = 0;
        foreach (var b in data)
        {
            result[j++] = b;
            if (b == IAC) result[j++] = IAC;
        }
        return result;
    }

    /// <summary><c>IAC SB COM-PORT-OPTION command value IAC SE</c>, with 0xFF in the value doubled.</summary>
    public static byte[] ComPortCommand(byte command, ReadOnlySpan<byte> value)
    {
        var frame = new List<byte>(value.Length + 8) { IAC, SB, COM_PORT_OPTION, command };
        foreach (var b in value)
        {
            frame.Add(b);
            if (b == IAC) frame.Add(IAC);
        }
        frame.Add(IAC);
        frame.Add(SE);
        return frame.ToArray();
    }

    /// <summary>The value of SET-BAUDRATE: the rate as a 32-bit big-endian number.</summary>
    public static byte[] BaudValue(int baud)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, (uint)baud);
        return b;
    }

    /// <summary>
    /// Splits received bytes into <paramref name="data"/> and Telnet <paramref name="commands"/>, in order. A command
    /// cut between two reads is completed by the next call.
    /// </summary>
    public void Decode(ReadOnlySpan<byte> input, List<byte> data, List<TelnetCommand> commands)
    {
        foreach (byte b in input)
        {
            switch (_state)
            {
                case RxState.Data:
                    if (b == IAC) _state = RxState.Iac;
                    else data.Add(b);
                    break;
                case RxState.Iac:
                    _state = RxState.Data;
                    if (b == IAC) data.Add(IAC);
                    else if (b is WILL or WONT or DO or DONT)
                    {
                        _verb = b;
                        _state = RxState.Option;
                    }
                    else if (b == SB)
                    {
                        _sub.Clear();
                        _state = RxState.Sub;
                    }
                    // Any other command (NOP, GA, AYT, ...) carries no data: drop it.
                    break;
                case RxState.Option:
                    _state = RxState.Data;
                    commands.Add(new TelnetCommand(_verb, b, null));
                    break;
                case RxState.Sub:
                    if (b == IAC) _state = RxState.SubIac;
                    else _sub.Add(b);
                    break;
                case RxState.SubIac:
                    if (b == IAC)
                    {
                        _sub.Add(IAC);
                        _state = RxState.Sub;
                    }
                    else
                    {
                        // SE (or a malformed end): the subnegotiation is complete.
                        commands.Add(new TelnetCommand(SB, _sub.Count > 0 ? _sub[0] : (byte)0, [.. _sub]));
                        _state = RxState.Data;
                    }
                    break;
            }
        }
    }

    /// <summary>
    /// What to send back for the server's WILL/WONT/DO/DONT <paramref name="option"/>, or null when nothing is due
    /// (a confirmation of what we asked for, or of a state already in force, is not answered, so negotiation cannot loop).
    /// </summary>
    public byte[]? Answer(byte verb, byte option)
    {
        byte[]? reply = null;
        switch (verb)
        {
            case DO:
                if (option is BINARY or SGA or COM_PORT_OPTION)
                {
                    if (!_weWill.GetValueOrDefault(option) && !WeRequested(option)) reply = [IAC, WILL, option];
                    _weWill[option] = true;
                }
                else reply = [IAC, WONT, option];
                break;
            case DONT:
                if (_weWill.GetValueOrDefault(option)) reply = [IAC, WONT, option];
                _weWill[option] = false;
                break;
            case WILL:
                if (option is BINARY or SGA or COM_PORT_OPTION or ECHO)
                {
                    if (!_theyWill.GetValueOrDefault(option) && !_theyWill.ContainsKey(option)) reply = [IAC, DO, option];
                    _theyWill[option] = true;
                }
                else reply = [IAC, DONT, option];
                break;
            case WONT:
                if (_theyWill.GetValueOrDefault(option)) reply = [IAC, DONT, option];
                _theyWill[option] = false;
                break;
        }
        return reply;
    }

    // Options we offered in Offer: the server's DO is the answer, not a new request.
    private bool WeRequested(byte option) => _weWill.ContainsKey(option);
}

/// <summary>
/// One Telnet command from the server: an option negotiation (<see cref="Verb"/> WILL/WONT/DO/DONT) or, with
/// <see cref="Verb"/> SB, a subnegotiation whose bytes (option first, unescaped) are in <see cref="Subnegotiation"/>.
/// </summary>
internal readonly record struct TelnetCommand(byte Verb, byte Option, byte[]? Subnegotiation);
