using Xunit;

namespace Esp.TestSupport.Interop;

/// <summary>A test that needs a third-party program: skipped with the reason when it is missing, unless CI requires it.</summary>
public sealed class InteropFactAttribute : FactAttribute
{
    public InteropFactAttribute(InteropTool tool)
    {
        if (InteropTools.SkipReason(tool) is { } reason) Skip = reason;
    }
}

/// <summary>The <see cref="InteropFactAttribute"/> rule for theories.</summary>
public sealed class InteropTheoryAttribute : TheoryAttribute
{
    public InteropTheoryAttribute(InteropTool tool)
    {
        if (InteropTools.SkipReason(tool) is { } reason) Skip = reason;
    }
}
