using Esp.Protocol.Errors;
using Esp.Protocol.Loader;
using Esp.Protocol.Transport;

namespace Esp.Protocol.Operations;

/// <summary>How a resumable operation retries.</summary>
public sealed record ResumeOptions
{
    /// <summary>Sessions to try in all (the first one included); 1 turns resuming off.</summary>
    public int Attempts { get; init; } = 3;
    /// <summary>Pause before reconnecting.</summary>
    public TimeSpan Backoff { get; init; } = TimeSpan.FromMilliseconds(100);
    /// <summary>Run the session's <see cref="EspSession.FinishAsync"/> (the after-reset) once the work succeeded.</summary>
    public bool Finish { get; init; } = true;
    /// <summary>Receives one line per retry.</summary>
    public Action<string>? Log { get; init; }
    /// <summary>How long a reconnect waits for a port that went away (a serial device, a TCP server) to come back.</summary>
    public TimeSpan PortWait { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>Which session a resumable operation is running in.</summary>
/// <param name="Number">1 for the first session, 2 for the first resume, …</param>
/// <param name="After">The failure that ended the previous session (null in the first).</param>
public sealed record ResumeAttempt(int Number, EspException? After)
{
    public bool IsResume => Number > 1;

    /// <summary>
    /// The deploy options for this session: a resume compares with the chip first (where the loader can hash flash),
    /// because writing everything again would throw away what the previous session wrote.
    /// </summary>
    public DeployOptions DeployOptionsFor(DeployOptions options, EspSession session) =>
        IsResume && options.Full && FlashMd5.IsAvailable(session) ? options with { Full = false } : options;
}

/// <summary>
/// Runs work that is safe to repeat on a chip, and repeats it on a fresh session when a session fails on the way
/// (noise, a timeout, a chip reset, a dropped link, a port that re-enumerated). The work decides from what the chip
/// holds, not from what the host believes it sent, so a repeat finishes the job instead of redoing it. A reconnect
/// must meet the same chip (factory MAC), else it stops with ESP2015. Errors a new session cannot fix (bad input,
/// write protection, guards, cancellation) stop at once. Once the work has returned, a failed after-action (the
/// reset) is all a later session does again.
/// </summary>
public static class ResumableRun
{
    public static async Task<T> RunAsync<T>(Func<CancellationToken, Task<EspSession>> connect,
        Func<EspSession, ResumeAttempt, CancellationToken, Task<T>> work, ResumeOptions? resume = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(connect);
        ArgumentNullException.ThrowIfNull(work);
        resume ??= new ResumeOptions();
        int attempts = Math.Max(1, resume.Attempts);
        EspException? last = null;
        string? firstMac = null;
        // Set once the work has returned: a later session only does the after-action (the work is not repeated).
        (T Result, string After)? done = null;
        for (int attempt = 1; attempt <= attempts; attempt++)
        {
            EspSession? session = null;
            try
            {
                session = await connect(ct).ConfigureAwait(false);
                if (attempts > 1) firstMac = await CheckSameChipAsync(session, firstMac, ct).ConfigureAwait(false);
                done ??= (await work(session, new ResumeAttempt(attempt, last), ct).ConfigureAwait(false), session.Options.After);
                if (resume.Finish) await session.FinishAsync(ct).ConfigureAwait(false);
                return done.Value.Result;
            }
            catch (EspException ex) when (IsRetryable(ex) && attempt < attempts && !ct.IsCancellationRequested)
            {
                last = Merge(last, ex);
                resume.Log?.Invoke($"Session {attempt} of {attempts} failed ({ex.CodeText}: {ex.Message}); " +
                    (done is null ? "reconnecting to resume." : "the work had finished; reconnecting to finish."));
                await Task.Delay(resume.Backoff, ct).ConfigureAwait(false);
            }
            catch (EspException ex) when (done is { } d && attempts > 1)
            {
                throw AfterActionFailed(ex, d.After);
            }
            catch (EspException ex) when (IsRetryable(ex))
            {
                // Cancelled (Ctrl+C) or out of attempts: stop here, with what every session left written.
                throw Final(Merge(last, ex), attempt);
            }
            catch (EspException ex) when (last is not null)
            {
                // A resume that cannot go on (the port did not come back, another chip): still say what was written.
                throw Final(Merge(last, ex), attempt);
            }
            finally
            {
                if (session is not null) await session.DisposeAsync().ConfigureAwait(false);
            }
        }
        throw new InvalidOperationException("unreachable: the last attempt returns or throws");
    }

    /// <summary>
    /// Connections for <see cref="RunAsync"/>: the first as <paramref name="options"/> say; later ones wait (at most
    /// <see cref="ResumeOptions.PortWait"/>) for the port to come back — a serial device under its path or, by its USB
    /// serial number, under another; a network port until its server accepts again.
    /// </summary>
    public static Func<CancellationToken, Task<EspSession>> ConnectorFor(ConnectOptions options, ResumeOptions resume,
        Func<IReadOnlyList<SerialPortInfo>> listPorts)
    {
        string? serial = null;
        int calls = 0;
        return async ct =>
        {
            if (calls++ == 0)
            {
                serial = options.Transport is null ? PortWaiter.SerialNumberOf(options.Port, listPorts) : null;
                return await EspSession.ConnectAsync(options, ct).ConfigureAwait(false);
            }
            if (options.Transport is not null) return await EspSession.ConnectAsync(options, ct).ConfigureAwait(false);
            var deadline = DateTime.UtcNow + resume.PortWait;
            var port = await PortWaiter.WaitAsync(options.Port, serial, resume.PortWait, listPorts, ct).ConfigureAwait(false)
                ?? throw PortGone(options.Port, resume.PortWait);
            if (port != options.Port) resume.Log?.Invoke($"The board came back as {port}.");
            while (true)
            {
                try
                {
                    return await EspSession.ConnectAsync(options with { Port = port }, ct).ConfigureAwait(false);
                }
                catch (EspException ex) when (ex.Code is EspErrorCode.PortNotFound or EspErrorCode.PortBusy && DateTime.UtcNow < deadline)
                {
                    // Listed but not yet openable (udev still setting permissions), or a server not listening yet.
                    await Task.Delay(200, ct).ConfigureAwait(false);
                }
                catch (EspException ex) when (ex.Code is EspErrorCode.PortNotFound or EspErrorCode.PortBusy)
                {
                    throw PortGone(port, resume.PortWait, ex);
                }
            }
        };
    }

    /// <summary>Failures of the link or of one transfer, which a fresh session may not meet again.</summary>
    public static bool IsRetryable(EspException ex) => ex.Code switch
    {
        EspErrorCode.NoSyncReply or EspErrorCode.Timeout or EspErrorCode.Disconnected or EspErrorCode.ProtocolViolation
            or EspErrorCode.StubStartFailed or EspErrorCode.WrongBootMode or EspErrorCode.StubNotRunning => true,
        EspErrorCode.RomError or EspErrorCode.StubError or EspErrorCode.SpiCommandTimeout => true,
        EspErrorCode.WriteVerifyFailed => true,
        _ => false,
    };

    private static EspException PortGone(string port, TimeSpan wait, Exception? inner = null) =>
        new(EspErrorCode.PortNotFound,
            $"The port {port} went away and did not come back within {wait.TotalSeconds:0.#} s.",
            "Reconnect the board and run the same command again: it writes only what is still missing.", inner);

    /// <summary>A resume must meet the chip the work started on: compare factory MACs (returns the first one).</summary>
    private static async Task<string?> CheckSameChipAsync(EspSession session, string? firstMac, CancellationToken ct)
    {
        if (session.SecureDownloadMode) return firstMac;
        string mac = await ChipInfo.ReadMacAsync(session, ct).ConfigureAwait(false);
        if (firstMac is not null && mac != firstMac)
            throw new EspException(EspErrorCode.ResumeChipChanged,
                $"The chip on {session.Transport.Name} is not the one the operation started on (MAC {mac}, was {firstMac}): not resuming onto it.",
                "Connect the board the operation started on, or run it again to start over on this one.");
        return firstMac ?? mac;
    }

    /// <summary>
    /// The work returned (everything written), but the after-action (the reset, or leaving the stub) failed in every
    /// session left: say that the flash holds the work, not only why the last session failed.
    /// </summary>
    private static EspException AfterActionFailed(EspException ex, string after) =>
        new(ex.Code, $"Everything was written, but the after-action ({after}) could not be done: {ex.Message}",
            "The flash holds what was written: reset the board by hand to run it.", ex);

    /// <summary>Keeps the most informative report: a range report beats a bare error from a later attempt that wrote nothing.</summary>
    private static EspException Merge(EspException? previous, EspException current) =>
        current is EspWriteIncompleteException || previous is not EspWriteIncompleteException p
            ? current
            : new EspWriteIncompleteException(current.Code, current.Message, p.Verified, p.Unverified, p.NotWritten, current.Help, current, p.Attempts);

    private static EspException Final(EspException last, int attempts) => last is EspWriteIncompleteException w
        ? new EspWriteIncompleteException(w.Code, w.Cause, w.Verified, w.Unverified, w.NotWritten, w.Help, w.InnerException, attempts)
        : last;
}
