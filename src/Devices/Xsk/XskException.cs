namespace VethXdp.Devices.Xsk;

/// <summary>An AF_XDP call failed with a negative errno, as the system call would return it.</summary>
public sealed class XskException : Exception
{
    /// <summary>Creates the exception.</summary>
    public XskException(int errno, string message)
        : base(message)
    {
        Errno = errno;
    }

    /// <summary>Creates the exception.</summary>
    public XskException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public XskException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public XskException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>The negative errno.</summary>
    public int Errno { get; }
}
