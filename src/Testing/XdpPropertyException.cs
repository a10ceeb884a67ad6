namespace VethXdp.Testing;

/// <summary>A property over generated frames does not hold (<see cref="XdpProperty.Verify(FrameSpec, XdpCheck, int, string?)"/>); the message shows the
/// smallest failing frame, decoded and in hex, and the seed that replays the run.</summary>
public sealed class XdpPropertyException : Exception
{
    /// <summary>An exception for a failed report.</summary>
    public XdpPropertyException(XdpCheckReport report)
        : base(report?.Message)
    {
        ArgumentNullException.ThrowIfNull(report);
        Report = report;
    }

    /// <summary>An exception with a message only.</summary>
    public XdpPropertyException(string message)
        : base(message)
    {
        Report = null;
    }

    /// <summary>An exception with a message and a cause.</summary>
    public XdpPropertyException(string message, Exception innerException)
        : base(message, innerException)
    {
        Report = null;
    }

    /// <summary>An exception without a message.</summary>
    public XdpPropertyException()
    {
        Report = null;
    }

    /// <summary>The report, when the exception comes from one.</summary>
    public XdpCheckReport? Report { get; }
}
