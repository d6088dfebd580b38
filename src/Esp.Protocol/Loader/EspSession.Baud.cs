using Esp.Protocol.Commands;
using Esp.Protocol.Errors;

namespace Esp.Protocol.Loader;

/// <summary>CHANGE_BAUDRATE, and what to do when the chip is silent afterwards.</summary>
public sealed partial class EspSession
{
    /// <summary>
    /// CHANGE_BAUDRATE: the chip answers at the old rate, then both sides switch. The link is checked at the new rate;
    /// a chip that never switched is used at the old rate (with a warning), a silent one is a coded error.
    /// </summary>
    public async Task ChangeBaudAsync(int baud, CancellationToken ct)
    {
        int old = Transport.BaudRate;
        if (await Loader.ChangeBaudrateAsync(this, baud, old, ct).ConfigureAwait(false) is not { } command)
        {
            Log($"{Chip.Name} {Loader.Name} cannot change the baud rate; staying at {old}.");
            return;
        }
        await ExecuteAsync(command, ct).ConfigureAwait(false);
        await SwitchHostBaudAsync(baud, ct).ConfigureAwait(false);
        if (await AnswersAsync(ct).ConfigureAwait(false))
        {
            Log($"Changed baud rate to {baud}.");
            return;
        }

        // Silent at the new rate. If the chip never switched, it still answers at the old one.
        await SwitchHostBaudAsync(old, ct).ConfigureAwait(false);
        if (await AnswersAsync(ct).ConfigureAwait(false))
        {
            Log($"Warning: the chip did not take {baud} Bd; continuing at {old} Bd.");
            return;
        }
        throw new EspException(EspErrorCode.BaudChangeFailed,
            $"After switching to {baud} Bd the chip stopped answering, at {baud} Bd and at {old} Bd.",
            $"Connect at a rate this link carries: -b {old} (EspBaud={old}) or another lower rate, then reset the chip.");
    }

    private async Task SwitchHostBaudAsync(int baud, CancellationToken ct)
    {
        await Transport.SetBaudRateAsync(baud, ct).ConfigureAwait(false);
        await Task.Delay(50, ct).ConfigureAwait(false);
        Link.DiscardInput();
    }

    /// <summary>Whether the loader answers a READ_REG (any well-formed reply, a refusal included) at the host's rate.</summary>
    private async Task<bool> AnswersAsync(CancellationToken ct)
    {
        // Sent and read directly: a check of the link, not a command to repeat behind a barrier.
        var probe = LoaderCommands.ReadReg(ProtocolConstants.ChipDetectMagicRegister) with
        {
            Timeout = ReplyTimeout.Fixed(Max(TimeSpan.FromMilliseconds(300), LinkAllowance(64))),
        };
        for (int attempt = 0; attempt < 2; attempt++)
        {
            try
            {
                await SendAsync(probe, ct).ConfigureAwait(false);
                await Commands.ReadReplyAsync(probe, ct).ConfigureAwait(false);
                if (attempt > 0) Commands.ExpectLateReplies(); // the first probe may still be answered
                return true;
            }
            catch (EspCommandException)
            {
                return true;
            }
            catch (EspException ex) when (ex.Code is EspErrorCode.Timeout or EspErrorCode.ProtocolViolation)
            {
                await Link.DrainAsync(TimeSpan.FromMilliseconds(50), ct).ConfigureAwait(false);
            }
        }
        return false;
    }
}
