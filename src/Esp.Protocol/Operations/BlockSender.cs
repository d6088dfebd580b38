using Esp.Protocol.Commands;
using Esp.Protocol.Errors;
using Esp.Protocol.Loader;

namespace Esp.Protocol.Operations;

/// <summary>
/// Sends *_DATA blocks one at a time (no loader takes a block before the previous one's reply, docs/fidelity.md),
/// reusing one packet buffer. A block is sent again, as esptool does, after answers that mean it was not written.
/// </summary>
internal sealed class BlockSender(EspSession session, Opcode op, int blockSize, ReplyTimeout timeout, bool retryTimeouts, Action<uint> onAcked)
{
    private const int Attempts = 3;
    private const int Header = Request.HeaderLength + Request.DataHeaderLength;
    private readonly byte[] _packet = new byte[Header + blockSize];
    private uint _seq;

    /// <summary>The data area of the next block's packet.</summary>
    public Span<byte> Next() => _packet.AsSpan(Header, blockSize);

    /// <summary>Sends the next block (its first <paramref name="dataLength"/> bytes of <see cref="Next"/>) and waits for its reply.</summary>
    public async Task SendAsync(int dataLength, CancellationToken ct)
    {
        Request.CompleteData(_packet, op, dataLength, _seq);
        var packet = _packet.AsMemory(0, Header + dataLength);
        var reply = new Command(op, [], timeout);
        for (int attempt = 1; ; attempt++)
        {
            await session.Link.SendAsync(packet, ct).ConfigureAwait(false);
            try
            {
                await session.Commands.ReadReplyAsync(reply, ct).ConfigureAwait(false);
                break;
            }
            catch (EspException ex) when (FlashWriter.IsTransient(ex) && (retryTimeouts || ex.Code != EspErrorCode.Timeout) && attempt < Attempts)
            {
                await session.Link.DrainAsync(TimeSpan.FromMilliseconds(50), ct).ConfigureAwait(false);
            }
        }
        onAcked(++_seq);
    }
}
