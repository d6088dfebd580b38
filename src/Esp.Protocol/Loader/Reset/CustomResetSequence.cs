using System.Globalization;
using Esp.Protocol.Errors;

namespace Esp.Protocol.Loader.Reset;

/// <summary>The kind of one step of a custom reset sequence.</summary>
public enum ResetStepKind
{
    /// <summary><c>D0</c>/<c>D1</c>: set DTR.</summary>
    Dtr,
    /// <summary><c>R0</c>/<c>R1</c>: set RTS (then DTR is written again, as for every RTS write).</summary>
    Rts,
    /// <summary><c>U&lt;dtr&gt;,&lt;rts&gt;</c>: set both lines in one operation.</summary>
    Both,
    /// <summary><c>W&lt;seconds&gt;</c>: wait.</summary>
    Wait,
}

/// <summary>One parsed step.</summary>
public readonly record struct ResetStep(ResetStepKind Kind, bool Dtr = false, bool Rts = false, TimeSpan Duration = default)
{
    public override string ToString() => Kind switch
    {
        ResetStepKind.Dtr => Dtr ? "D1" : "D0",
        ResetStepKind.Rts => Rts ? "R1" : "R0",
        ResetStepKind.Both => $"U{(Dtr ? 1 : 0)},{(Rts ? 1 : 0)}",
        _ => "W" + Duration.TotalSeconds.ToString("0.######", CultureInfo.InvariantCulture),
    };
}

/// <summary>
/// A reset sequence written in esptool's configuration syntax (<c>custom_reset_sequence</c> /
/// <c>custom_hard_reset_sequence</c>): steps separated by <c>|</c>, e.g. <c>D0|R1|W0.1|D1|R0|W0.05|D0</c>.
/// Step letters are case-insensitive, blanks around steps are ignored and empty steps are dropped.
/// </summary>
public sealed class CustomResetSequence : ResetStrategy
{
    private CustomResetSequence(string text, IReadOnlyList<ResetStep> steps)
    {
        Text = text;
        Steps = steps;
    }

    public string Text { get; }

    public IReadOnlyList<ResetStep> Steps { get; }

    public override string Description => $"Custom({Text})";

    public override bool NeedsLineControl => Steps.Any(s => s.Kind != ResetStepKind.Wait);

    /// <exception cref="EspException">InvalidResetSequence naming the bad step.</exception>
    public static CustomResetSequence Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
            throw new EspException(EspErrorCode.InvalidResetSequence, "The custom reset sequence is empty.");
        var steps = new List<ResetStep>();
        foreach (var raw in text.Split('|'))
        {
            var token = raw.Trim();
            if (token.Length == 0) continue;
            steps.Add(ParseStep(token, steps.Count + 1));
        }
        if (steps.Count == 0)
            throw new EspException(EspErrorCode.InvalidResetSequence, $"The custom reset sequence '{text}' has no steps.");
        return new CustomResetSequence(text.Trim(), steps);
    }

    private static ResetStep ParseStep(string token, int number)
    {
        var arg = token[1..].Trim();
        switch (char.ToUpperInvariant(token[0]))
        {
            case 'D':
                return new ResetStep(ResetStepKind.Dtr, Dtr: Bit(arg));
            case 'R':
                return new ResetStep(ResetStepKind.Rts, Rts: Bit(arg));
            case 'U':
                var parts = arg.Split(',');
                if (parts.Length != 2) throw Bad("U needs two values separated by a comma, e.g. U0,1");
                return new ResetStep(ResetStepKind.Both, Dtr: Bit(parts[0].Trim()), Rts: Bit(parts[1].Trim()));
            case 'W':
                if (!double.TryParse(arg, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || !double.IsFinite(seconds))
                    throw Bad("W needs a number of seconds, e.g. W0.1");
                if (seconds < 0) throw Bad("a wait cannot be negative");
                return new ResetStep(ResetStepKind.Wait, Duration: TimeSpan.FromSeconds(seconds));
            default:
                throw Bad($"unknown command '{token[0]}' (use D, R, U or W)");
        }

        bool Bit(string s) => s switch
        {
            "0" => false,
            "1" => true,
            _ => throw Bad($"expected 0 or 1, got '{s}'"),
        };

        EspException Bad(string why) =>
            new(EspErrorCode.InvalidResetSequence, $"Invalid custom reset sequence step {number} '{token}': {why}.");
    }

    protected override async Task RunCoreAsync(LineDriver lines)
    {
        foreach (var step in Steps)
        {
            switch (step.Kind)
            {
                case ResetStepKind.Dtr: await lines.DtrAsync(step.Dtr); break;
                case ResetStepKind.Rts: await lines.RtsAsync(step.Rts); break;
                case ResetStepKind.Both: await lines.BothAsync(step.Dtr, step.Rts); break;
                default: await lines.WaitAsync(step.Duration); break;
            }
        }
    }
}
