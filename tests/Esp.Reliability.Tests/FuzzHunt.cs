using Esp.Reliability.Fuzz;

namespace Esp.Reliability.Tests;

/// <summary>Crash hunting for inputs that kill the process (stack overflow, out of memory): each input is saved to
/// ESP_FUZZ_HUNT before it runs, so the file left behind is the culprit. Does nothing unless ESP_FUZZ_HUNT is set.</summary>
public class FuzzHunt
{
    [Fact]
    public void Hunt()
    {
        if (Environment.GetEnvironmentVariable("ESP_FUZZ_HUNT") is not { Length: > 0 } path) return;
        string target = Environment.GetEnvironmentVariable("ESP_FUZZ_TARGET") ?? "elf";
        var seeds = FuzzSeeds.For(target);
        var rng = new Random(1);
        for (int i = 0; i < 30_000; i++)
        {
            byte[] input;
            if (rng.Next(4) == 0) { input = new byte[rng.Next(601)]; rng.NextBytes(input); }
            else input = FuzzSeeds.Mutate(seeds[rng.Next(seeds.Count)], rng.Next(), rng.Next(1, 13));
            File.WriteAllBytes(path, input);
            FuzzTargets.Run(target, input);
        }
    }
}

