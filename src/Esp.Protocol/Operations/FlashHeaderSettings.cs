using Esp.Protocol.Images;

namespace Esp.Protocol.Operations;

/// <summary>
/// Flash mode, frequency and size written into the header of the image placed at the chip's bootloader address,
/// as esptool's <c>--flash-mode/--flash-freq/--flash-size</c> do. Null or <c>keep</c> leaves a field as it is;
/// size <c>detect</c> means the size of the connected chip's flash.
/// </summary>
public sealed record FlashHeaderSettings(string? Mode = null, string? Frequency = null, string? Size = null)
{
    /// <summary>The size that stands for the connected chip's flash size.</summary>
    public const string DetectSize = "detect";

    /// <summary>Leave every header unchanged.</summary>
    public static FlashHeaderSettings Keep { get; } = new();

    /// <summary>True when any field is to be changed.</summary>
    public bool Any => !EspImage.IsKeep(Mode) || !EspImage.IsKeep(Frequency) || !EspImage.IsKeep(Size);

    /// <summary>True when the size is <c>detect</c>.</summary>
    public bool DetectsSize => Size is not null && Size.Equals(DetectSize, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// These settings with <c>detect</c> replaced by <paramref name="flashSize"/> (e.g. 4MB), or by <c>keep</c>
    /// when the size is unknown, as esptool does.
    /// </summary>
    public FlashHeaderSettings WithDetectedSize(int? flashSize) =>
        !DetectsSize ? this : this with { Size = flashSize is { } bytes ? FlashIdentity.FormatSize(bytes) : "keep" };

    /// <inheritdoc />
    public override string ToString() => $"mode {Mode ?? "keep"}, freq {Frequency ?? "keep"}, size {Size ?? "keep"}";
}
