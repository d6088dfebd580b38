using Esp.Reliability.Fuzz;
using SharpFuzz;

// Esp.Fuzz <target>            run under libFuzzer (libfuzzer-dotnet) or AFL++ (--afl)
// Esp.Fuzz <target> <file>...  run files once (reproduce a crash)
// Esp.Fuzz --list              the targets
if (args.Length == 0 || args[0] == "--list")
{
    Console.WriteLine(string.Join('\n', FuzzTargets.All.Keys));
    return 0;
}
string target = args[0];
if (!FuzzTargets.All.ContainsKey(target))
{
    Console.Error.WriteLine($"Unknown target '{target}'. Targets: {string.Join(", ", FuzzTargets.All.Keys)}");
    return 2;
}
if (args.Length > 1 && args[1] != "--afl")
{
    foreach (var file in args.Skip(1))
        Console.WriteLine($"{file}: {(FuzzTargets.Run(target, File.ReadAllBytes(file)) ? "accepted" : "rejected with EspException")}");
    return 0;
}
if (args.Length > 1 && args[1] == "--afl")
{
    Fuzzer.OutOfProcess.Run(stream =>
    {
        using var ms = new MemoryStream();
        stream.CopyTo(ms);
        FuzzTargets.Run(target, ms.ToArray());
    });
    return 0;
}
// FuzzTargets.Run lets anything but an EspException escape: libFuzzer records it as a crash.
Fuzzer.LibFuzzer.Run(span => FuzzTargets.Run(target, span.ToArray()));
return 0;
