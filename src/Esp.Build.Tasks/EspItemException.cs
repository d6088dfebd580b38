using Esp.Protocol.Errors;
using Microsoft.Build.Framework;

namespace Esp.Build.Tasks;

/// <summary>An error about one task item (an image without an address, a missing file): logged at the element that defines it.</summary>
internal sealed class EspItemException(EspException error, ITaskItem item)
    : EspException(error.Code, error.Message, error.Help, error)
{
    public ITaskItem Item { get; } = item;
}
