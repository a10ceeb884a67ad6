using Microsoft.Win32.SafeHandles;

namespace VethXdp.Kernel;

/// <summary>A file descriptor for a kernel BPF object (map or program); closing it drops our reference.</summary>
public sealed class BpfFd : SafeHandleMinusOneIsInvalid
{
    /// <summary>Creates an invalid handle (for marshalling).</summary>
    public BpfFd()
        : base(ownsHandle: true)
    {
    }

    /// <summary>Takes ownership of <paramref name="fd"/>.</summary>
    /// <param name="fd">An open file descriptor.</param>
    public BpfFd(int fd)
        : base(ownsHandle: true)
    {
        SetHandle(fd);
    }

    /// <summary>The descriptor's number (valid while the handle is open).</summary>
    public int Value
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return (int)handle;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => IsClosed ? "fd (closed)" : $"fd {(int)handle}";

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => LibC.Close((int)handle) == 0;
}
