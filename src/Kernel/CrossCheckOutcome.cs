namespace VethXdp.Kernel;

/// <summary>One packet's outcome on one side of a cross-check: a retval and the bytes from data_meta to the end of
/// the frame, or a refusal (an error instead of a verdict).</summary>
/// <param name="Retval">r0's low 32 bits, or null when the packet was refused or faulted.</param>
/// <param name="Output">The frame after the program from data_meta on (metadata, then data), as BPF_PROG_TEST_RUN's
/// data_out; empty with an error.</param>
/// <param name="MetaLength">Bytes of metadata at the start of <paramref name="Output"/>.</param>
/// <param name="Error">Why the packet has no verdict (the kernel's errno name and what it means, or our VM's
/// error), or null.</param>
/// <param name="Errno">The errno name of a refusal ("EINVAL") where one is known, or null.</param>
public sealed record CrossCheckOutcome(uint? Retval, byte[] Output, int MetaLength, string? Error, string? Errno)
{
    /// <summary>A verdict with its output bytes.</summary>
    /// <param name="retval">r0's low 32 bits.</param>
    /// <param name="output">Metadata then data.</param>
    /// <param name="metaLength">Bytes of metadata.</param>
    public static CrossCheckOutcome Verdict(uint retval, byte[] output, int metaLength) => new(retval, output, metaLength, null, null);

    /// <summary>A refusal or fault.</summary>
    /// <param name="error">What happened.</param>
    /// <param name="errno">The errno name, where known.</param>
    public static CrossCheckOutcome Refused(string error, string? errno) => new(null, [], 0, error, errno);
}
