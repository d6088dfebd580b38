namespace Esp.Simulator;

/// <summary>
/// A flash or RAM download in progress (FLASH_BEGIN … FLASH_END, MEM_BEGIN … MEM_END): where the next block goes,
/// what is left, the inflater of a compressed write, the sectors erased so far and an error from work done after a
/// reply. The ROM loader and the stub share it: a stub started by MEM_END begins with a fresh one.
/// </summary>
internal sealed class DownloadState
{
    // flash download
    public bool FlashMode, DeflMode, EncryptedWrite;
    public uint FlashOffset, FlashNext, FlashBlockSize;
    public long FlashRemaining, FlashEnd;
    public readonly HashSet<uint> ErasedSectors = new();
    public Inflater? Inflater;
    /// <summary>An error the stub met after answering a block; the next command reports it.</summary>
    public byte DeferredError;

    // RAM download
    public bool MemMode;
    public uint MemOffset, MemBlockSize, MemSize;
    public MemoryStream? MemData;
    /// <summary>Segments loaded since the loader started: a jump into one of them may start a stub.</summary>
    public readonly List<LoadedSegment> SessionSegments = new();

    public void Reset()
    {
        FlashMode = DeflMode = MemMode = false;
        DeferredError = 0;
        Inflater?.Dispose(); Inflater = null;
        MemData = null;
        SessionSegments.Clear();
        ErasedSectors.Clear();
    }

    /// <summary>A new flash download: a fresh inflater for a compressed one.</summary>
    public void StartFlashMode(byte op)
    {
        FlashMode = op == 0x02; DeflMode = op == 0x10;
        Inflater?.Dispose();
        Inflater = DeflMode ? new Inflater() : null;
    }

    /// <summary>Returns the deferred error and clears it.</summary>
    public byte TakeDeferredError()
    {
        var e = DeferredError;
        DeferredError = 0;
        return e;
    }
}
