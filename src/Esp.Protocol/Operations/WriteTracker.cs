using Esp.Protocol.Errors;

namespace Esp.Protocol.Operations;

/// <summary>How far a write got: set once *_BEGIN is sent, advanced as the chip acknowledges blocks.</summary>
internal sealed class WriteTracker
{
    public bool Begun;
    /// <summary>Payload bytes (from the aligned start) the chip has acknowledged, at least.</summary>
    public long AckedPayload;
    /// <summary>Payload bytes sent, at most: a block on its way may or may not have reached the flash.</summary>
    public long SentPayload;

    /// <summary>Failures after which the flash is in an unknown, partly written state (not bad arguments).</summary>
    public static bool IsInterruption(Exception ex, CancellationToken ct) =>
        ex is OperationCanceledException && ct.IsCancellationRequested
        || ex is EspException { Code: not (EspErrorCode.FlashWriteProtected or EspErrorCode.UnsupportedCommand or EspErrorCode.FlashEncrypted) } and not EspWriteIncompleteException;

    /// <summary>
    /// The report for a write that stopped: of the requested range [address, address+length), the part the chip
    /// acknowledged (payload bytes [0, acked) from <paramref name="start"/>) and the part not written.
    /// </summary>
    public static EspWriteIncompleteException Incomplete(Exception ex, uint address, int length, uint start, long acked, bool verified)
    {
        ulong end = address + (ulong)length;
        ulong ackEnd = Math.Clamp(start + (ulong)acked, address, end);
        var done = new FlashSpan(address, (long)(ackEnd - address));
        var rest = new FlashSpan((uint)ackEnd, (long)(end - ackEnd));
        var code = ex is EspException e ? e.Code : EspErrorCode.Cancelled;
        string cause = ex is EspException ? ex.Message : "The write was cancelled";
        return new EspWriteIncompleteException(code, cause,
            verified ? [done] : [], verified ? [] : [done], [rest], inner: ex);
    }
}
