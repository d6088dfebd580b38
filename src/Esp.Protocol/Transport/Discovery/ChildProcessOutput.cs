using System.ComponentModel;
using System.Diagnostics;

namespace Esp.Protocol.Transport.Discovery;

/// <summary>Runs a short-lived tool and takes its standard output, giving up (and ending it) after a timeout.</summary>
internal static class ChildProcessOutput
{
    /// <summary>The tool's standard output when it exits with 0 within <paramref name="timeout"/>; otherwise null.</summary>
    public static string? Run(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            CreateNoWindow = true,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        try
        {
            using var process = Process.Start(start);
            if (process is null) return null;
            process.StandardInput.Close();
            // Both pipes are drained at once, so a tool that writes much to one cannot stall on the other.
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                Stop(process);
                return null;
            }
            if (!Task.WaitAll([output, errors], timeout)) return null;
            return process.ExitCode == 0 ? output.Result : null;
        }
        catch (Exception ex) when (ex is Win32Exception or InvalidOperationException or IOException or AggregateException)
        {
            return null;
        }
    }

    private static void Stop(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(1000);
        }
        catch (Exception ex) when (ex is InvalidOperationException or Win32Exception or NotSupportedException)
        {
            // It exited on its own in the meantime.
        }
    }
}
