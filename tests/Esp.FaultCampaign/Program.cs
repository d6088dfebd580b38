using Esp.FaultCampaign;

// dotnet run --project tests/Esp.FaultCampaign -- --runs 1000 [--seed N] [--parallel 2] [--only 17,42] [--verbose]
int runs = 1000, seed = 1, parallel = 2, attempts = 3;
double hangSeconds = 60;
bool verbose = false, details = true;
List<int>? only = null;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--runs": runs = int.Parse(Next()); break;
        case "--seed": seed = int.Parse(Next()); break;
        case "--parallel": parallel = int.Parse(Next()); break;
        case "--attempts": attempts = int.Parse(Next()); break;
        case "--hang-seconds": hangSeconds = double.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture); break;
        case "--only": only = Next().Split(',').Select(int.Parse).ToList(); break;
        case "--verbose": verbose = true; break;
        case "--no-details": details = false; break;
        case "-h" or "--help":
            Console.WriteLine("Esp.FaultCampaign [--runs N] [--seed N] [--parallel N] [--attempts N] [--hang-seconds S] [--only i,j] [--verbose] [--no-details]");
            return 0;
        default:
            Console.Error.WriteLine($"Unknown option {args[i]}; see --help.");
            return 2;
    }
}

Console.WriteLine($"Fault campaign: {(only is null ? runs : only.Count)} runs, seed {seed}, {parallel} in parallel, hang bound {hangSeconds} s.");
int done = 0;
var report = await Campaign.RunAsync(new CampaignOptions
{
    Runs = runs,
    Seed = seed,
    Parallel = parallel,
    ResumeAttempts = attempts,
    HangBound = TimeSpan.FromSeconds(hangSeconds),
    Only = only,
    OnRun = r =>
    {
        int n = Interlocked.Increment(ref done);
        bool bad = r.Outcome is not (RunOutcome.Succeeded or RunOutcome.FailedClearly) || r.CollateralDamage;
        if (verbose || bad) Console.WriteLine((bad ? "!! " : "   ") + r.Describe());
        else if (n % 100 == 0) Console.WriteLine($"   {n} runs done");
    },
});
Console.WriteLine();
Console.WriteLine(report.Table());
if (details) Console.WriteLine(report.Details());
Console.WriteLine($"Elapsed {report.Elapsed.TotalSeconds:0} s. Reproduce one run with --seed {seed} --only <run index>.");
return report.SilentCorruptions + report.Hangs + report.UnclearFailures > 0 ? 1 : 0;
