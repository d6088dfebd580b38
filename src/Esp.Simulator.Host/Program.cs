using System.Globalization;
using Esp.Simulator;

// esp-sim: runs a virtual ESP chip and exposes it as a pseudo-terminal, a raw TCP port or an RFC 2217 port.
var chip = "esp32";
string? pty = null, state = null, uri = null;
int? tcp = null, rfc = null;
var flash = "4MB";
var extra = new List<string>();
for (var i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--chip": chip = Next(); break;
        case "--pty": pty = Next(); break;
        case "--tcp": tcp = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--rfc2217": rfc = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--flash": flash = Next(); break;
        case "--state": state = Next(); break;
        case "--uri": uri = Next(); break;
        case "--set": extra.Add(Next()); break;
        case "-h": case "--help":
            Console.WriteLine("""
                usage: esp-sim [--chip esp32] [--flash 4MB] [--state flash.bin] (--pty PATH | --tcp PORT | --rfc2217 PORT)...
                               [--set key=value]... [--uri sim:esp32?key=value&...]
                  --set takes any sim: URI parameter (seed, baud-throttle, latency-us, stub, secure-download,
                  flash-crypt-cnt, revision, mac, download, peripherals, flash-timing, rx-buffer, ...).
                """);
            return 0;
        default:
            Console.Error.WriteLine($"unknown argument '{args[i]}' (try --help)");
            return 2;
    }
}
if (pty is null && tcp is null && rfc is null) tcp = 5555;
uri ??= $"sim:{chip}?flash={flash}" + (state is null ? "" : "&state=" + Uri.EscapeDataString(state))
    + string.Concat(extra.Select(e => "&" + e));

using var sim = VirtualChip.FromUri(uri);
var hosts = new List<IDisposable>();
if (pty is not null)
{
    var p = new PtyHost(sim, pty);
    hosts.Add(p);
    Console.WriteLine($"{sim.ChipKey}: pty {p.Path} -> {p.DevicePath}   (esptool --port {p.Path} --before no_reset ...)");
}
if (tcp is { } tp)
{
    var t = new TcpSerialServer(sim, tp);
    hosts.Add(t);
    Console.WriteLine($"{sim.ChipKey}: tcp socket://127.0.0.1:{t.Port}   (esptool --port socket://127.0.0.1:{t.Port} --before no_reset ...)");
}
if (rfc is { } rp)
{
    var r = new Rfc2217Server(sim, rp);
    hosts.Add(r);
    Console.WriteLine($"{sim.ChipKey}: rfc2217://127.0.0.1:{r.Port}   (DTR/RTS reset sequences work)");
}
Console.WriteLine($"flash {sim.Flash.Size / 1024} KiB, JEDEC {sim.Flash.JedecId:x6}{(state is null ? "" : ", state " + state)}. Ctrl+C to stop.");
using var done = new ManualResetEventSlim();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; done.Set(); };
AppDomain.CurrentDomain.ProcessExit += (_, _) => done.Set();
done.Wait();
foreach (var h in hosts) h.Dispose();
Console.WriteLine(sim.Statistics);
return 0;
