using Esp.Protocol.Errors;
using Esp.Protocol.Operations;
using Microsoft.Build.Framework;

namespace Esp.Build.Tasks;

/// <summary>Reads the images of task items (ItemSpec = file) into the requests the engine composes.</summary>
internal static class ImageItems
{
    /// <summary>Images or RAM segments of the flash and memory tasks: every item needs <c>Address</c> metadata.</summary>
    public static List<(ITaskItem Item, uint Address, byte[] Data)> Load(ITaskItem[]? items, string parameter)
    {
        var list = new List<(ITaskItem, uint, byte[])>();
        foreach (var item in items ?? [])
        {
            list.Add(About(item, () =>
            {
                var addressText = item.GetMetadata("Address");
                if (string.IsNullOrWhiteSpace(addressText))
                    throw new EspException(EspErrorCode.InvalidArgument, $"{parameter} item '{item.ItemSpec}' has no Address metadata.", AddressHelp);
                uint address = Numbers.ParseUInt(addressText, $"Address of '{item.ItemSpec}'");
                return (item, address, ReadImage(PathOf(item)));
            }));
        }
        if (list.Count == 0)
            throw new EspException(EspErrorCode.InvalidArgument, $"No images were given ({parameter} is empty).");
        return list;
    }

    /// <summary>
    /// The Deploy task's images: <c>Address</c>, or <c>Partition</c> when Address is empty or <c>auto</c>;
    /// optional <c>Name</c> and <c>EnsureErasedAfter</c>.
    /// </summary>
    public static List<DeployRequest> LoadDeployment(ITaskItem[]? items)
    {
        var list = new List<DeployRequest>();
        foreach (var item in items ?? [])
        {
            list.Add(About(item, () =>
            {
                var path = PathOf(item);
                var data = ReadImage(path);
                string? addressText = NonEmpty(item.GetMetadata("Address"));
                string? partition = NonEmpty(item.GetMetadata("Partition"));
                uint? address = null;
                if (addressText is not null && !addressText.Equals("auto", StringComparison.OrdinalIgnoreCase))
                    address = Numbers.ParseUInt(addressText, $"Address of '{item.ItemSpec}'");
                else if (partition is null)
                    throw new EspException(EspErrorCode.InvalidArgument, $"The image '{item.ItemSpec}' has no Address metadata.", AddressHelp);
                return new DeployRequest(NonEmpty(item.GetMetadata("Name")) ?? Path.GetFileName(path), data)
                {
                    Address = address,
                    Partition = partition,
                    EnsureErasedAfter = string.Equals(item.GetMetadata("EnsureErasedAfter"), "true", StringComparison.OrdinalIgnoreCase),
                };
            }));
        }
        if (list.Count == 0)
            throw new EspException(EspErrorCode.InvalidArgument, "There is nothing to deploy: no EspFlashImage items and no nanoFramework assemblies.",
                "Add <EspFlashImage Include=\"file.bin\" Address=\"0x10000\" /> items, or build a nanoFramework project.");
        return list;
    }

    /// <summary>Runs <paramref name="read"/> for one item; its errors point at the element that defines the item.</summary>
    private static T About<T>(ITaskItem item, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (EspException ex) when (ex is not EspItemException)
        {
            throw new EspItemException(ex, item);
        }
    }

    private const string AddressHelp = "Give every image an address, e.g. <EspFlashImage Include=\"app.bin\" Address=\"0x10000\" />.";

    private static string PathOf(ITaskItem item)
    {
        var path = item.GetMetadata("FullPath");
        return string.IsNullOrEmpty(path) ? item.ItemSpec : path;
    }

    private static byte[] ReadImage(string path)
    {
        if (!File.Exists(path)) throw new EspException(EspErrorCode.FileNotFound, $"The image '{path}' does not exist.");
        var data = File.ReadAllBytes(path);
        if (data.Length == 0) throw new EspException(EspErrorCode.FileEmpty, $"The image '{path}' is empty.");
        return data;
    }

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}
