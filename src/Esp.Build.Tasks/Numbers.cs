using Esp.Protocol.Errors;
using Esp.Protocol.Text;

namespace Esp.Build.Tasks;

/// <summary>
/// Numbers in task parameters and item metadata (rules: <see cref="NumberText"/>; a size suffix is accepted
/// everywhere, e.g. <c>Address="64k"</c>), and how the tasks print addresses.
/// </summary>
internal static class Numbers
{
    public static uint ParseUInt(string? text, string name)
    {
        if (!TryParse(text, out var value))
            throw new EspException(EspErrorCode.InvalidNumber, $"{name} '{text}' is not a number.");
        return value;
    }

    public static bool TryParse(string? text, out uint value) => NumberText.TryParseUInt32(text, allowSizeSuffix: true, out value);

    public static string Hex(uint v) => $"0x{v:X8}";
}
