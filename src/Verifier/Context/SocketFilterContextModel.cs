using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Context;

/// <summary>The socket filter's __sk_buff (net/core/filter.c: sk_filter_is_valid_access).</summary>
/// <remarks>No packet pointers (no direct packet access: socket filters read the packet with ld_abs/ld_ind or
/// bpf_skb_load_bytes), none of the socket fields, no tc_classid, tstamp, wire_len or hwtstamp; only cb[] is
/// writable.</remarks>
public sealed class SocketFilterContextModel : SkBuffContextModel
{
    /// <summary>Creates the model.</summary>
    /// <param name="expectedAttachType">expected_attach_type (unused by the kernel for socket filters).</param>
    public SocketFilterContextModel(uint expectedAttachType = 0)
        : base(ProgramType.SocketFilter, expectedAttachType)
    {
    }

    /// <inheritdoc/>
    public override bool MayAccessDirectPacketData(CtxAccessType t) => false;

    /// <inheritdoc/>
    // kernel: sk_filter_is_valid_access()
    private protected override bool IsValidAccessCore(int off, int size, CtxAccessType type, bool isLdsx, ref CtxAccessInfo info)
    {
        if (InRange(off, SkBuffMd.TcClassid, 4) || InRange(off, SkBuffMd.Data, 4) || InRange(off, SkBuffMd.DataMeta, 4)
            || InRange(off, SkBuffMd.DataEnd, 4) || InRange(off, SkBuffMd.Family, SkBuffMd.LocalPort + 4 - SkBuffMd.Family)
            || InRange(off, SkBuffMd.Tstamp, 8) || InRange(off, SkBuffMd.WireLen, 4) || InRange(off, SkBuffMd.Hwtstamp, 8))
        {
            return false;
        }

        if (type == CtxAccessType.Write && !InRange(off, SkBuffMd.Cb, SkBuffMd.CbEnd - SkBuffMd.Cb))
        {
            return false;
        }

        return IsValidSkbAccess(off, size, type, isLdsx, ref info);
    }
}
