using System.Diagnostics;

namespace Esp.TestSupport.Interop;

/// <summary>A program written by others that the interop tests run against.</summary>
public enum InteropTool
{
    /// <summary>ser2net 4.x, the RFC 2217 server remote labs put in front of serial ports.</summary>
    Ser2Net,
    /// <summary>python3 with pyserial, whose <c>rfc2217://</c> client esptool uses.</summary>
    PySerial,
}

/// <summary>
/// Finds the third-party programs the interop tests need and says whether a missing one skips or fails a test.
/// Locally a missing program skips its tests with the reason; with <c>ESP_INTEROP_REQUIRED=1</c> (set by CI,
/// which installs them) the tests run anyway and fail with <see cref="Require"/>'s message.
/// </summary>
public static class InteropTools
{
    public const string RequiredVariable = "ESP_INTEROP_REQUIRED";

    private static readonly Lazy<string?> Ser2NetPath = new(FindSer2Net);
    private static readonly Lazy<string?> PySerialPython = new(FindPythonWithPySerial);

    /// <summary>True when CI asked for every interop test to run.</summary>
    public static bool Required => Environment.GetEnvironmentVariable(RequiredVariable) is "1" or "true";

    /// <summary>The program's path, or null when it is not installed.</summary>
    public static string? Find(InteropTool tool) => tool switch
    {
        InteropTool.Ser2Net => Ser2NetPath.Value,
        InteropTool.PySerial => PySerialPython.Value,
        _ => throw new ArgumentOutOfRangeException(nameof(tool)),
    };

    /// <summary>Why a test of <paramref name="tool"/> is skipped, or null when it runs.</summary>
    public static string? SkipReason(InteropTool tool)
    {
        if (!OperatingSystem.IsLinux()) return "Interop tests run on Linux (pseudo-terminals, Debian's packages).";
        if (Required || Find(tool) is not null) return null;
        return $"{Missing(tool)} Set {RequiredVariable}=1 to make this a failure instead of a skip (CI does).";
    }

    /// <summary>The program's path; throws with what to install when it is missing.</summary>
    public static string Require(InteropTool tool) =>
        Find(tool) ?? throw new FileNotFoundException(Missing(tool) + $" ({RequiredVariable}=1 makes this a failure.)");

    private static string Missing(InteropTool tool) => tool switch
    {
        InteropTool.Ser2Net => "ser2net was not found on PATH or in /usr/sbin (apt-get install ser2net).",
        _ => "No python3 with pyserial was found (apt-get install python3-serial).",
    };

    private static string? FindSer2Net() =>
        Candidates("ser2net", "/usr/sbin/ser2net", "/usr/local/sbin/ser2net").FirstOrDefault(File.Exists);

    /// <summary>The first python3 (PATH order, then Debian's own) that imports pyserial.</summary>
    private static string? FindPythonWithPySerial() =>
        Candidates("python3", "/usr/bin/python3").Where(File.Exists).FirstOrDefault(ImportsSerial);

    private static IEnumerable<string> Candidates(string name, params string[] fixedPaths) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name)).Concat(fixedPaths).Distinct();

    private static bool ImportsSerial(string python)
    {
        try
        {
            var psi = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("import serial.rfc2217");
            using var p = Process.Start(psi)!;
            _ = p.StandardOutput.ReadToEndAsync();
            _ = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                p.Kill(entireProcessTree: true);
                return false;
            }
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
