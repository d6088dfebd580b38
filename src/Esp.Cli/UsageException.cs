using Esp.Protocol.Errors;

namespace Esp.Cli;

/// <summary>A mistake in the command line: reported with the command's usage and exit code 2.</summary>
internal sealed class UsageException(EspErrorCode code, string message, string? help = null)
    : EspException(code, message, help)
{
    public static UsageException Invalid(string message, string? help = null) => new(EspErrorCode.InvalidArgument, message, help);
}

/// <summary>Exit codes the CLI promises to scripts.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;
    public const int Cancelled = 130;
}
