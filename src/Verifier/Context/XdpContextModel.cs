using VethXdp.Verifier.State;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Context;

/// <summary>XDP's context, <c>struct xdp_md</c> (net/core/filter.c: xdp_is_valid_access, __is_valid_xdp_access).</summary>
/// <remarks>Every field is read as a whole aligned <c>__u32</c>: no narrow loads, no 8-byte loads. data, data_end and
/// data_meta give packet pointers (and may not be loaded sign-extended); egress_ifindex is only for devmap programs
/// (expected_attach_type BPF_XDP_DEVMAP; Linux 6.18 refuses it to BPF_XDP_CPUMAP programs as well, as the running
/// kernel confirms); the only writable field is rx_queue_index, and only for a device-bound program.</remarks>
public sealed class XdpContextModel : ContextModel
{
    /// <summary>BPF_XDP_DEVMAP (enum bpf_attach_type).</summary>
    public const uint AttachXdpDevmap = (uint)AttachType.XdpDevmap;

    /// <summary>Creates the model.</summary>
    /// <param name="expectedAttachType">expected_attach_type.</param>
    /// <param name="devBound">bpf_prog_is_dev_bound: the program is bound to a device.</param>
    public XdpContextModel(uint expectedAttachType, bool devBound = false)
        : base(ProgramType.Xdp, expectedAttachType)
    {
        DevBound = devBound;
    }

    /// <summary>bpf_prog_is_dev_bound: the program may write rx_queue_index.</summary>
    public bool DevBound { get; }

    /// <inheritdoc/>
    public override string StructName => "xdp_md";

    /// <inheritdoc/>
    public override int Size => XdpMd.Size;

    /// <inheritdoc/>
    public override bool MayAccessDirectPacketData(CtxAccessType t) => true;   // read and write

    /// <inheritdoc/>
    // kernel: xdp_is_valid_access()
    private protected override bool IsValidAccessCore(int off, int size, CtxAccessType type, bool isLdsx, ref CtxAccessInfo info)
    {
        // egress_ifindex is filled in only when a devmap runs the program on the way out.
        if (ExpectedAttachType != AttachXdpDevmap && off == XdpMd.EgressIfindex)
        {
            return false;
        }

        if (type == CtxAccessType.Write)
        {
            // Only a device-bound program may steer the queue index; nothing else in xdp_md is writable.
            return DevBound && off == XdpMd.RxQueueIndex && IsValidXdpAccess(off, size);
        }

        switch (off)
        {
            case XdpMd.Data:
                info.RegType = RegType.PtrToPacket;
                break;
            case XdpMd.DataMeta:
                info.RegType = RegType.PtrToPacketMeta;
                break;
            case XdpMd.DataEnd:
                info.RegType = RegType.PtrToPacketEnd;
                break;
        }

        // A sign-extended 32-bit load of a field that becomes a 64-bit pointer makes no sense: refused (6.18).
        if (isLdsx && info.RegType != RegType.Scalar)
        {
            return false;
        }

        return IsValidXdpAccess(off, size);
    }

    // kernel: __is_valid_xdp_access()
    private static bool IsValidXdpAccess(int off, int size) =>
        off >= 0 && off < XdpMd.Size && off % size == 0 && size == sizeof(uint);
}
