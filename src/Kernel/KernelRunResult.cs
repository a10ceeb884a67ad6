namespace VethXdp.Kernel;

/// <summary>One BPF_PROG_TEST_RUN of an XDP program.</summary>
/// <param name="Retval">retval: r0's low 32 bits.</param>
/// <param name="DataOut">data_out: the frame from data_meta to data_end after the program (meta, then data).</param>
/// <param name="MetaLength">Bytes of metadata at the start of <paramref name="DataOut"/> (ctx_out's data - data_meta).</param>
/// <param name="Duration">duration in nanoseconds, as the kernel measured it.</param>
public sealed record KernelRunResult(uint Retval, byte[] DataOut, int MetaLength, uint Duration)
{
    /// <summary>The metadata: data_meta to data.</summary>
    public ReadOnlySpan<byte> Meta => DataOut.AsSpan(0, MetaLength);

    /// <summary>The packet: data to data_end.</summary>
    public ReadOnlySpan<byte> Data => DataOut.AsSpan(MetaLength);
}

/// <summary>One entry of a kernel map as BPF_MAP_LOOKUP_ELEM returns it (per-CPU values: round_up(value size, 8)
/// bytes per possible CPU; program arrays and maps of maps: the object's id; queue and stack: an empty key).</summary>
/// <param name="Key">The key.</param>
/// <param name="Value">The value.</param>
public sealed record KernelMapEntry(byte[] Key, byte[] Value);
