using Esp.Protocol.Errors;
using Esp.Protocol.Loader.Reset;

namespace Esp.Protocol.Tests.Reset;

public class CustomResetSequenceTests
{
    [Fact]
    public void ParsesTheClassicSequence()
    {
        var s = CustomResetSequence.Parse("D0|R1|W0.1|D1|R0|W0.05|D0");
        Assert.Equal(
            [
                new ResetStep(ResetStepKind.Dtr, Dtr: false),
                new ResetStep(ResetStepKind.Rts, Rts: true),
                new ResetStep(ResetStepKind.Wait, Duration: TimeSpan.FromSeconds(0.1)),
                new ResetStep(ResetStepKind.Dtr, Dtr: true),
                new ResetStep(ResetStepKind.Rts, Rts: false),
                new ResetStep(ResetStepKind.Wait, Duration: TimeSpan.FromSeconds(0.05)),
                new ResetStep(ResetStepKind.Dtr, Dtr: false),
            ],
            s.Steps);
        Assert.Equal("D0|R1|W0.1|D1|R0|W0.05|D0", string.Join("|", s.Steps));
    }

    [Fact]
    public void ParsesUnixTightStyleWithBlanksLowercaseAndTrailingBar()
    {
        var s = CustomResetSequence.Parse(" u1,1 | U0, 1|w0.1|U1,0|W5e-2|U0,0| ");
        Assert.Equal("U1,1|U0,1|W0.1|U1,0|W0.05|U0,0", string.Join("|", s.Steps));
    }

    [Fact]
    public async Task RunsStepsWithDtrRewriteAfterRts()
    {
        var t = new RecordingTransport();
        var s = CustomResetSequence.Parse("D0|R1|W0.1|D1|R0|W0.05|D0|U1,1");
        s.Delay = t.RecordDelay;
        await s.RunAsync(t);
        Assert.Equal("D0|R1|D0|W0.1|D1|R0|D1|W0.05|D0|U1,1", t.Sequence);
    }

    [Fact]
    public async Task WaitOnlySequenceNeedsNoLineControl()
    {
        var t = new RecordingTransport(lineControl: false);
        var s = CustomResetSequence.Parse("W0.3");
        s.Delay = t.RecordDelay;
        await s.RunAsync(t);
        Assert.Equal("W0.3", t.Sequence);
    }

    [Theory]
    [InlineData("D0|X1|W0.1", "X1", "step 2")]
    [InlineData("D2", "D2", "0 or 1")]
    [InlineData("D10", "D10", "0 or 1")]
    [InlineData("R", "'R'", "0 or 1")]
    [InlineData("D0|U1", "U1", "comma")]
    [InlineData("U1,0,1", "U1,0,1", "comma")]
    [InlineData("U1,x", "U1,x", "0 or 1")]
    [InlineData("W", "'W'", "seconds")]
    [InlineData("Wabc", "Wabc", "seconds")]
    [InlineData("W-1", "W-1", "negative")]
    [InlineData("Wnan", "Wnan", "seconds")]
    [InlineData("D0;R1", "D0;R1", "0 or 1")]
    public void RejectsBadStepsNamingThem(string text, string named, string why)
    {
        var ex = Assert.Throws<EspException>(() => CustomResetSequence.Parse(text));
        Assert.Equal(EspErrorCode.InvalidResetSequence, ex.Code);
        Assert.Contains(named, ex.Message);
        Assert.Contains(why, ex.Message);
        Assert.Contains("D0/D1", ex.Help);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("| |")]
    public void RejectsEmptySequences(string text)
    {
        var ex = Assert.Throws<EspException>(() => CustomResetSequence.Parse(text));
        Assert.Equal(EspErrorCode.InvalidResetSequence, ex.Code);
    }
}
