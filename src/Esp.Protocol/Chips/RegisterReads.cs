namespace Esp.Protocol.Chips;

/// <summary>
/// Runs a pure "registers → value" rule (written against a synchronous reader) over an asynchronous reader such
/// as READ_REG. Each distinct address is read once, in the order the rule first asks for it.
/// </summary>
public static class RegisterReads
{
    public static async Task<T> EvaluateAsync<T>(
        Func<Func<uint, uint>, T> rule, Func<uint, Task<uint>> readRegister, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentNullException.ThrowIfNull(readRegister);
        var cache = new Dictionary<uint, uint>();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            uint? missing = null;
            T result = default!;
            try
            {
                result = rule(address =>
                {
                    if (cache.TryGetValue(address, out var v)) return v;
                    missing = address;
                    throw new MissingRegisterException();
                });
            }
            catch (MissingRegisterException) when (missing is not null)
            {
            }
            if (missing is not { } address) return result;
            cache[address] = await readRegister(address).ConfigureAwait(false);
        }
    }

    /// <summary>The addresses a rule reads when every register reads as <paramref name="fill"/> (a hint for simulators and tests).</summary>
    public static IReadOnlyList<uint> AddressesRead<T>(Func<Func<uint, uint>, T> rule, uint fill = 0)
    {
        var seen = new List<uint>();
        rule(a => { if (!seen.Contains(a)) seen.Add(a); return fill; });
        return seen;
    }

    private sealed class MissingRegisterException : Exception;
}
