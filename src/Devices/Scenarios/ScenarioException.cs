namespace VethXdp.Devices.Scenarios;

/// <summary>A scenario file that cannot be used; the message names the file and the setting.</summary>
public sealed class ScenarioException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ScenarioException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ScenarioException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ScenarioException()
    {
    }
}
