using Esp.FaultCampaign;

// dotnet run --project tests/Esp.FaultCampaign -c Release -- --runs 2000 [--seed N] [--parallel 2] [--only 17,42] [--verbose] [--log]
int runs = 1000, seed = 1, parallel = 2;
double hangSeconds = 60, portWaitSeconds = 5;
bool verbose = false, details = true, showLog = false;
List<int>? only = null;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--runs": runs = int.Parse(Next()); break;
        case "--seed": seed = int.Parse(Next()); break;
        case "--parallel": parallel = int.Parse(Next()); break;
        case "--hang-seconds": hangSeconds = double.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture); break;
        case "--port-wait": portWaitSeconds = double.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture); break;
        case "--only": only = Next().Split(',').Select(int.Parse).ToList(); break;
        case "--verbose": verbose = true; break;
        case "--log": showLog = true; break;
        case "--no-details": details = false; break;
        case "-h" or "--help":
            Console.WriteLine("Esp.FaultCampaign [--runs N] [--seed N] [--parallel N] [--hang-seconds S] [--port-wait S] [--only i,j] [--verbose] [--log] [--no-details]");
            return 0;
        default:
            Console.Error.WriteLine($"Unknown option {args[i]}; see --help.");
            return 2;
    }
}

Console.WriteLine($"Fault campaign: {(only is null ? runs : only.Count)} runs, seed {seed}, {parallel} in parallel, hang bound {hangSeconds} s, port wait {portWaitSeconds} s.");
int done = 0;
var report = await Campaign.RunAsync(new CampaignOptions
{
    Runs = runs,
    Seed = seed,
    Parallel = parallel,
    HangBound = TimeSpan.FromSeconds(hangSeconds),
    PortWait = TimeSpan.FromSeconds(portWaitSeconds),
    Only = only,
    OnRun = r =>
    {
        int n = Interlocked.Increment(ref done);
        if (verbose || r.Bad) Console.WriteLine((r.Bad ? "!! " : "   ") + r.Describe());
        if (showLog) Console.WriteLine(r.Log);
        else if (n % 100 == 0) Console.WriteLine($"   {n} runs done");
    },
});
Console.WriteLine();
Console.WriteLine($"Seed {seed}, {report.Runs.Count} runs, {report.Elapsed.TotalSeconds:0} s.");
Console.WriteLine();
Console.WriteLine(report.Table());
if (details) Console.WriteLine(report.Details());
var bad = report.BadRuns;
if (bad.Count > 0)
{
    Console.WriteLine($"{bad.Count} run(s) broke a rule. Replay them with:");
    Console.WriteLine("  " + Campaign.ReplayCommand(seed, bad.Select(r => r.Index)) + " --verbose");
}
else
{
    Console.WriteLine($"Replay any run with: {Campaign.ReplayCommand(seed, "<index>")} --verbose");
}
return bad.Count > 0 ? 1 : 0;
