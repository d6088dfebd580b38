using System.Diagnostics;
using Esp.Protocol.Transport.Discovery;

namespace Esp.Protocol.Tests.Transport.Discovery;

public class ChildProcessOutputTests
{
    [Fact]
    public void OutputOfAToolThatSucceeds()
    {
        if (OperatingSystem.IsWindows()) return;
        Assert.Equal("hello\n", ChildProcessOutput.Run("/bin/sh", ["-c", "echo hello"], TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void NothingFromAToolThatFails()
    {
        if (OperatingSystem.IsWindows()) return;
        Assert.Null(ChildProcessOutput.Run("/bin/sh", ["-c", "echo partial; exit 3"], TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void NothingFromAToolThatIsMissing() =>
        Assert.Null(ChildProcessOutput.Run(Path.Combine(Path.GetTempPath(), "no-such-tool-" + Guid.NewGuid()), [], TimeSpan.FromSeconds(1)));

    [Fact]
    public void AToolThatHangsIsEndedAtTheTimeout()
    {
        if (OperatingSystem.IsWindows()) return;
        var clock = Stopwatch.StartNew();
        Assert.Null(ChildProcessOutput.Run("/bin/sh", ["-c", "sleep 30"], TimeSpan.FromMilliseconds(300)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }
}
