using System.Buffers;
using System.Text;

namespace Esp.Protocol.Monitor;

/// <summary>
/// Turns the chip's bytes into line pieces of text. Input is UTF-8; whatever is not text is shown as <c>\xNN</c>
/// (invalid or truncated UTF-8, C0 and C1 control characters other than tab and escape, DEL), so binary output
/// prints as readable escapes instead of breaking the terminal. Escape stays, as ESP-IDF colours its log with it.
/// CR LF, LF and a lone CR each end a line. A multi-byte character split across reads is joined.
/// </summary>
public sealed class MonitorTextDecoder
{
    private readonly byte[] _pending = new byte[4];
    private readonly StringBuilder _line = new();
    private int _pendingCount;
    private bool _atLineStart = true;
    private bool _afterCr;

    /// <summary>Decodes <paramref name="data"/>; the pieces it completes are added to <paramref name="output"/>.</summary>
    public void Decode(ReadOnlySpan<byte> data, DateTimeOffset time, List<MonitorText> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        byte[]? rented = null;
        if (_pendingCount > 0)
        {
            // A character started in the previous read: decode it together with this one.
            rented = ArrayPool<byte>.Shared.Rent(_pendingCount + data.Length);
            _pending.AsSpan(0, _pendingCount).CopyTo(rented);
            data.CopyTo(rented.AsSpan(_pendingCount));
            data = rented.AsSpan(0, _pendingCount + data.Length);
            _pendingCount = 0;
        }
        try
        {
            DecodeCore(data, time, output);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
        EmitPiece(time, endsLine: false, output);
    }

    /// <summary>Emits what is still held back (a character cut off at the end), as escapes.</summary>
    public void Flush(DateTimeOffset time, List<MonitorText> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        for (int i = 0; i < _pendingCount; i++) AppendEscaped(_pending[i]);
        _pendingCount = 0;
        EmitPiece(time, endsLine: false, output);
    }

    private void DecodeCore(ReadOnlySpan<byte> data, DateTimeOffset time, List<MonitorText> output)
    {
        int i = 0;
        while (i < data.Length)
        {
            byte b = data[i];
            if (b == (byte)'\n' && _afterCr)
            {
                _afterCr = false; // the LF of a CR LF: the line already ended at the CR
                i++;
                continue;
            }
            _afterCr = b == (byte)'\r';
            if (b is (byte)'\r' or (byte)'\n')
            {
                EmitPiece(time, endsLine: true, output);
                i++;
                continue;
            }
            if (b < 0x80)
            {
                if (IsControl(b)) AppendEscaped(b);
                else _line.Append((char)b);
                i++;
                continue;
            }
            var status = Rune.DecodeFromUtf8(data[i..], out var rune, out int consumed);
            if (status == OperationStatus.NeedMoreData)
            {
                // The rest of the character is in the next read.
                data[i..].CopyTo(_pending);
                _pendingCount = data.Length - i;
                return;
            }
            if (status == OperationStatus.Done && rune.Value > 0x9F) _line.Append(rune.ToString());
            else
                for (int k = 0; k < consumed; k++) AppendEscaped(data[i + k]);
            i += consumed;
        }
    }

    private static bool IsControl(byte b) => b is < 0x20 and not ((byte)'\t' or 0x1B) or 0x7F;

    private void AppendEscaped(byte b) => _line.Append("\\x").Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));

    private void EmitPiece(DateTimeOffset time, bool endsLine, List<MonitorText> output)
    {
        if (_line.Length == 0 && !endsLine) return;
        output.Add(new MonitorText(time, _line.ToString(), _atLineStart, endsLine));
        _line.Clear();
        _atLineStart = endsLine;
    }
}
