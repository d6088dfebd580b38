using System.Collections.Concurrent;

namespace Esp.Protocol.Operations;

/// <summary>
/// Compressed images shared by writes that send the same bytes, so that deploying one image to many boards compresses
/// it once instead of once per board. Writes through a cache hold the compressed chunks until the cache is disposed.
/// </summary>
public sealed class CompressionCache : IDisposable
{
    private readonly ConcurrentDictionary<(string Md5, int Length, int Level, int ChunkSize), Lazy<CompressedImage>> _images = new();
    private int _builds;

    /// <summary>How many images were compressed (the rest were shared).</summary>
    public int Builds => Volatile.Read(ref _builds);

    internal CompressedImage GetOrBuild(WritePayload payload, int level, int chunkSize)
    {
        var key = (payload.Md5(), payload.Length, level, chunkSize);
        return _images.GetOrAdd(key, _ => new Lazy<CompressedImage>(() =>
        {
            Interlocked.Increment(ref _builds);
            return CompressedImage.Build(payload, level, chunkSize, hold: true);
        })).Value;
    }

    public void Dispose()
    {
        foreach (var lazy in _images.Values)
            if (lazy.IsValueCreated) lazy.Value.Dispose();
        _images.Clear();
    }
}
