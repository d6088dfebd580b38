namespace Esp.Simulator;

// The state file: the flash image loaded at start, saved atomically shortly after every change and on dispose.
public sealed partial class VirtualChip
{
    private readonly Timer _saveTimer;
    private readonly Lock _saveLock = new();
    private int _dirty;

    private void LoadStateFile()
    {
        if (Options.StatePath is { } path && File.Exists(path)) Flash.LoadImage(File.ReadAllBytes(path));
    }

    /// <summary>Saves the flash shortly after it changes; creates the state file when it is missing.</summary>
    private Timer KeepStateFile()
    {
        var timer = new Timer(_ => { try { SaveIfDirty(); } catch (IOException) { } });
        Flash.Changed += () =>
        {
            Interlocked.Exchange(ref _dirty, 1);
            if (Options.StatePath is not null) timer.Change(200, Timeout.Infinite);
        };
        if (Options.StatePath is { } path && !File.Exists(path)) SaveState();
        return timer;
    }

    /// <summary>Writes the flash to <see cref="VirtualChipOptions.StatePath"/> (temp file + rename).</summary>
    public void SaveState()
    {
        if (Options.StatePath is not { } path) return;
        // The save timer and Dispose may save at the same moment: they share the temporary file's name.
        lock (_saveLock)
        {
            Interlocked.Exchange(ref _dirty, 0);
            var full = Path.GetFullPath(path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            var tmp = full + ".tmp" + Environment.ProcessId;
            File.WriteAllBytes(tmp, Flash.Snapshot());
            File.Move(tmp, full, overwrite: true);
        }
    }

    private void SaveIfDirty()
    {
        if (Interlocked.CompareExchange(ref _dirty, 0, 1) == 1)
        {
            Interlocked.Exchange(ref _dirty, 1);
            SaveState();
        }
    }
}
