namespace VethXdp.Testing.Model;

/// <summary>One defect of a frame: what kind, in which header (-1: the frame as a whole), and the details.</summary>
/// <param name="Kind">The kind.</param>
/// <param name="HeaderIndex">The header that carries it, or -1.</param>
/// <param name="Detail">What exactly, e.g. "IPv4 total length 1500, 40 bytes there".</param>
public sealed record Malformation(MalformationKind Kind, int HeaderIndex, string Detail)
{
    /// <summary>"LengthTooLong: IPv4 total length 1500, 40 bytes there".</summary>
    public override string ToString() => $"{Kind}: {Detail}";
}
