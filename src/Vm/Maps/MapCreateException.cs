namespace VethXdp.Vm.Maps;

/// <summary>A map definition the kernel would refuse at BPF_MAP_CREATE (or one we cannot create), naming the map
/// and the reason: <c>map "flows": max_entries is 0: size it with --map-size flows=N</c>.</summary>
public sealed class MapCreateException : Exception
{
    /// <summary>Creates the exception for map <paramref name="mapName"/>.</summary>
    /// <param name="mapName">The map's name.</param>
    /// <param name="reason">Why it is refused, in the kernel's terms.</param>
    /// <param name="errorCode">The errno bpf(BPF_MAP_CREATE) fails with (positive: EINVAL = 22).</param>
    public MapCreateException(string mapName, string reason, int errorCode)
        : base("map \"" + mapName + "\": " + reason)
    {
        MapName = mapName;
        Reason = reason;
        ErrorCode = errorCode;
    }

    /// <summary>Creates the exception with a message only.</summary>
    public MapCreateException()
        : this("?", "invalid map definition", Errno.EINVAL)
    {
    }

    /// <summary>Creates the exception with a message only.</summary>
    /// <param name="message">What is wrong.</param>
    public MapCreateException(string message)
        : base(message)
    {
        MapName = "?";
        Reason = message;
        ErrorCode = Errno.EINVAL;
    }

    /// <summary>Creates the exception with a message and the underlying error.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The underlying error.</param>
    public MapCreateException(string message, Exception innerException)
        : base(message, innerException)
    {
        MapName = "?";
        Reason = message;
        ErrorCode = Errno.ENOMEM;
    }

    /// <summary>The map's name.</summary>
    public string MapName { get; }

    /// <summary>Why the map is refused, without the <c>map "name": </c> prefix.</summary>
    public string Reason { get; }

    /// <summary>The errno bpf(BPF_MAP_CREATE) would fail with (positive).</summary>
    public int ErrorCode { get; }
}
