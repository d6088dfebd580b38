using System.Text.RegularExpressions;
using Esp.FaultCampaign.Paths;

namespace Esp.FaultCampaign;

/// <summary>What the campaign demands of a failure and of the flash around the target.</summary>
public static partial class FailureChecks
{
    [GeneratedRegex(@"^ESP\d{4}$")]
    private static partial Regex CodePattern();

    /// <summary>Null when the failure is clear; else why it is not.</summary>
    public static string? WhyUnclear(Scenario sc, PathResult result, bool portLost)
    {
        if (result.Code is null || !CodePattern().IsMatch(result.Code)) return "no ESPnnnn code";
        if (string.IsNullOrWhiteSpace(result.Message) || string.IsNullOrWhiteSpace(result.Help)) return "no message or no help";
        int number = int.Parse(result.Code.AsSpan(3), System.Globalization.CultureInfo.InvariantCulture);
        if (number == 9999) return "an internal error (the product could not name the failure)";
        if (number == 9001) return "cancelled, though nobody cancelled it";
        // The campaign's input is always valid: an input error is a wrong diagnosis of a fault.
        if (number is >= 1000 and < 2000) return "an input error for valid input";
        if (sc.Class == FaultClass.PortGone && portLost && sc.Resumes)
        {
            if (result.Code != "ESP2001") return "the port went away for good, but the error is not ESP2001";
            if (!result.Message!.Contains("written", StringComparison.Ordinal)) return "the port went away for good, but the error does not say what was written";
        }
        return null;
    }

    /// <summary>
    /// Whatever happened, nothing outside the target sectors may change, nor (after a reported success) the bytes
    /// before an unaligned start. Null when nothing did; else where.
    /// </summary>
    public static string? DamageOutsideTarget(Scenario sc, byte[] before, byte[] after, RunOutcome outcome)
    {
        int start = (int)sc.TargetStart, end = (int)sc.TargetEnd;
        bool damaged = !after.AsSpan(0, start).SequenceEqual(before.AsSpan(0, start))
            || !after.AsSpan(end).SequenceEqual(before.AsSpan(end));
        int head = (int)(sc.Address - sc.TargetStart);
        if (head > 0 && outcome == RunOutcome.Succeeded && !after.AsSpan(start, head).SequenceEqual(before.AsSpan(start, head)))
            damaged = true;
        if (!damaged) return null;

        int first = -1, last = -1;
        for (int i = 0; i < after.Length; i++)
        {
            bool inside = i >= sc.Address && i < sc.End;
            if (!inside && after[i] != before[i])
            {
                if (first < 0) first = i;
                last = i;
            }
        }
        return $"flash changed outside the image at 0x{first:X8}..0x{last + 1:X8}";
    }
}
