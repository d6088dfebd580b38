using Esp.Protocol.Errors;
using Esp.Protocol.Loader;

namespace Esp.Protocol.Operations;

/// <summary>How <see cref="ResumingDeployer"/> retries.</summary>
public sealed record ResumeOptions
{
    /// <summary>Sessions to try in all (the first one included).</summary>
    public int Attempts { get; init; } = 3;
    /// <summary>Pause before reconnecting.</summary>
    public TimeSpan Backoff { get; init; } = TimeSpan.FromMilliseconds(100);
    /// <summary>Run the session's <see cref="EspSession.FinishAsync"/> (reset into the new firmware) after success.</summary>
    public bool Finish { get; init; } = true;
    /// <summary>Receives one line per retry.</summary>
    public Action<string>? Log { get; init; }
    /// <summary>How long to wait for a serial port that went away to come back (<see cref="ResumingDeployer.ConnectorFor"/>).</summary>
    public TimeSpan PortWait { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Deploys with resume: when a session fails on the way (noise, a timeout, a chip reset, a dropped link), it
/// connects again and deploys again. Planning on the fresh session compares sector MD5s with the images, so only
/// what is missing or damaged is rewritten — the write resumes from what the chip really holds, not from what the
/// host believes it sent. Errors that a retry cannot fix (bad input, write protection, guards) stop at once.
/// When every attempt fails, the error says which ranges are written and verified and which are not.
/// </summary>
public static class ResumingDeployer
{
    public static async Task<DeployResult> DeployAsync(Func<CancellationToken, Task<EspSession>> connect, IReadOnlyList<DeployImage> images,
        DeployOptions? options = null, ResumeOptions? resume = null, IProgress<EspProgress>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(connect);
        options ??= new DeployOptions();
        resume ??= new ResumeOptions();
        int attempts = Math.Max(1, resume.Attempts);
        EspException? last = null;
        string? firstMac = null;
        for (int attempt = 1; attempt <= attempts; attempt++)
        {
            EspSession? session = null;
            try
            {
                session = await connect(ct).ConfigureAwait(false);
                firstMac = await CheckSameChipAsync(session, firstMac, ct).ConfigureAwait(false);
                // Later attempts always compare first: that is what makes them a resume.
                var o = attempt > 1 && FlashMd5.IsAvailable(session) ? options with { Full = false } : options;
                var result = await Deployer.DeployAsync(session, images, o, progress, ct).ConfigureAwait(false);
                if (resume.Finish) await session.FinishAsync(ct).ConfigureAwait(false);
                return attempt == 1 ? result : result with { Resumes = attempt - 1, ResumedAfter = last?.Message };
            }
            catch (EspException ex) when (IsRetryable(ex))
            {
                last = Merge(last, ex);
                if (attempt == attempts) break;
                resume.Log?.Invoke($"Attempt {attempt} of {attempts} failed ({ex.CodeText}: {ex.Message}); reconnecting to resume.");
                await Task.Delay(resume.Backoff, ct).ConfigureAwait(false);
            }
            catch (EspException ex) when (last is EspWriteIncompleteException earlier && ex is not EspWriteIncompleteException)
            {
                // A resume that cannot go on (the server or port is gone for good, another chip answers) still says
                // what the earlier attempts left written and what not.
                throw new EspWriteIncompleteException(ex.Code, ex.Message, earlier.Verified, earlier.Unverified, earlier.NotWritten, ex.Help, ex, attempt);
            }
            finally
            {
                if (session is not null) await session.DisposeAsync().ConfigureAwait(false);
            }
        }
        throw last is EspWriteIncompleteException w
            ? new EspWriteIncompleteException(w.Code, w.Cause, w.Verified, w.Unverified, w.NotWritten, w.Help, w.InnerException, attempts)
            : last!;
    }

    /// <summary>
    /// Connections for <see cref="DeployAsync"/>: the first as <paramref name="options"/> say; later ones after waiting
    /// (at most <see cref="ResumeOptions.PortWait"/>) for a serial port that went away to come back, under its path or,
    /// by its USB serial number, under another.
    /// </summary>
    public static Func<CancellationToken, Task<EspSession>> ConnectorFor(ConnectOptions options, ResumeOptions resume,
        Func<IReadOnlyList<Transport.SerialPortInfo>> listPorts)
    {
        string? serial = null;
        int calls = 0;
        return async ct =>
        {
            if (calls++ == 0)
            {
                serial = options.Transport is null ? Transport.PortWaiter.SerialNumberOf(options.Port, listPorts) : null;
                return await EspSession.ConnectAsync(options, ct).ConfigureAwait(false);
            }
            if (options.Transport is not null) return await EspSession.ConnectAsync(options, ct).ConfigureAwait(false);
            var port = await Transport.PortWaiter.WaitAsync(options.Port, serial, resume.PortWait, listPorts, ct).ConfigureAwait(false)
                ?? throw new EspException(EspErrorCode.PortNotFound,
                    $"The port {options.Port} went away and did not come back within {resume.PortWait.TotalSeconds:0.#} s.",
                    "Reconnect the board and run the deploy again; it writes only what is still missing.");
            if (port != options.Port) resume.Log?.Invoke($"The board came back as {port}.");
            return await EspSession.ConnectAsync(options with { Port = port }, ct).ConfigureAwait(false);
        };
    }

    /// <summary>A resume must meet the chip the deploy started on: compare factory MACs (returns the first one).</summary>
    private static async Task<string?> CheckSameChipAsync(EspSession session, string? firstMac, CancellationToken ct)
    {
        if (session.SecureDownloadMode) return firstMac;
        string mac = await ChipInfo.ReadMacAsync(session, ct).ConfigureAwait(false);
        if (firstMac is not null && mac != firstMac)
            throw new EspException(EspErrorCode.ResumeChipChanged,
                $"The chip on {session.Transport.Name} is not the one the deploy started on (MAC {mac}, was {firstMac}): not resuming onto it.");
        return firstMac ?? mac;
    }

    /// <summary>Keeps the most informative report: a range report beats a bare error from a later attempt that wrote nothing.</summary>
    private static EspException Merge(EspException? previous, EspException current) =>
        current is EspWriteIncompleteException || previous is not EspWriteIncompleteException p
            ? current
            : new EspWriteIncompleteException(current.Code, current.Message, p.Verified, p.Unverified, p.NotWritten, current.Help, current, p.Attempts);

    /// <summary>Failures of the link or of one transfer, which a fresh session may not meet again.</summary>
    public static bool IsRetryable(EspException ex) => ex.Code switch
    {
        EspErrorCode.NoSyncReply or EspErrorCode.Timeout or EspErrorCode.Disconnected or EspErrorCode.ProtocolViolation
            or EspErrorCode.StubStartFailed or EspErrorCode.WrongBootMode or EspErrorCode.StubNotRunning => true,
        EspErrorCode.RomError or EspErrorCode.StubError or EspErrorCode.SpiCommandTimeout => true,
        EspErrorCode.WriteVerifyFailed => true,
        _ => false,
    };
}
