using CsCheck;
using Esp.Protocol.Errors;
using Esp.Reliability.Fuzz;

namespace Esp.Reliability.Tests;

/// <summary>
/// Property tests over every parser fed untrusted bytes: they may reject input only with an EspException, never
/// crash with anything else, and never hang. Inputs are random bytes and mutations of valid seeds. CsCheck prints the
/// seed of a failure; set CsCheck_Seed to reproduce it. Counts are bounded for CI (ESP_FUZZ_ITER raises them).
/// </summary>
public class FuzzPropertyTests
{
    private static readonly long Iterations = long.TryParse(Environment.GetEnvironmentVariable("ESP_FUZZ_ITER"), out var n) ? n : 10000;

    /// <summary>All targets, or only ESP_FUZZ_TARGET's.</summary>
    public static TheoryData<string> Targets() =>
        new(FuzzTargets.All.Keys.Where(k => Environment.GetEnvironmentVariable("ESP_FUZZ_TARGET") is not { Length: > 0 } t || t == k));

    private static Gen<byte[]> Inputs(string target)
    {
        var seeds = FuzzSeeds.For(target);
        var mutated = Gen.Select(Gen.Int[0, seeds.Count - 1], Gen.Int, Gen.Int[1, 12],
            (i, rng, count) => FuzzSeeds.Mutate(seeds[i], rng, count));
        return Gen.Frequency((1, Gen.Byte.Array[0, 600]), (3, mutated));
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void ParserThrowsOnlyEspExceptionAndNeverHangs(string target)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Inputs(target).Sample(input =>
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                FuzzTargets.All[target](input);
            }
            catch (EspException ex)
            {
                Assert.False(string.IsNullOrWhiteSpace(ex.Message));
                Assert.False(string.IsNullOrWhiteSpace(ex.Help));
            }
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(2), $"{target} took {sw.Elapsed.TotalSeconds:0.0} s on {input.Length} bytes");
        }, iter: Iterations, threads: 1, print: b => Convert.ToHexString(b));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60));
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void ValidSeedsAreAccepted(string target)
    {
        foreach (var seed in FuzzSeeds.For(target))
            FuzzTargets.All[target](seed);
    }
}
