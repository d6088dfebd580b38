using Esp.Protocol.Errors;

namespace Esp.Build.Tasks;

/// <summary>An error about the value of one Esp property (e.g. EspStubFile names no file): logged at the line that sets it.</summary>
internal sealed class EspSettingException(EspErrorCode code, string property, string? value, string message, string? help = null)
    : EspException(code, message, help)
{
    public string Property { get; } = property;

    public string? Value { get; } = value;
}
