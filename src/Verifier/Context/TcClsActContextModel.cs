using VethXdp.Verifier.State;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Context;

/// <summary>The tc classifier's and action's __sk_buff (net/core/filter.c: tc_cls_act_is_valid_access).</summary>
/// <remarks>Packet pointers data, data_end and data_meta; writes to mark, tc_index, priority, tc_classid, cb[],
/// tstamp and queue_mapping; tstamp_type as a single byte (reading it changes how tstamp is rewritten); none of the
/// socket fields (family .. local_port).</remarks>
public sealed class TcClsActContextModel : SkBuffContextModel
{
    /// <summary>Creates the model.</summary>
    /// <param name="type"><see cref="ProgramType.SchedCls"/> or <see cref="ProgramType.SchedAct"/>.</param>
    /// <param name="expectedAttachType">expected_attach_type (BPF_TCX_INGRESS/EGRESS or 0).</param>
    public TcClsActContextModel(ProgramType type = ProgramType.SchedCls, uint expectedAttachType = 0)
        : base(type, expectedAttachType)
    {
        if (type is not (ProgramType.SchedCls or ProgramType.SchedAct))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "sched_cls or sched_act");
        }
    }

    /// <inheritdoc/>
    public override bool MayAccessDirectPacketData(CtxAccessType t) => true;   // read and write

    /// <inheritdoc/>
    // kernel: tc_cls_act_is_valid_access()
    private protected override bool IsValidAccessCore(int off, int size, CtxAccessType type, bool isLdsx, ref CtxAccessInfo info)
    {
        if (type == CtxAccessType.Write
            && !(InRange(off, SkBuffMd.Mark, 4) || InRange(off, SkBuffMd.TcIndex, 4) || InRange(off, SkBuffMd.Priority, 4)
                 || InRange(off, SkBuffMd.TcClassid, 4) || InRange(off, SkBuffMd.Cb, SkBuffMd.CbEnd - SkBuffMd.Cb)
                 || InRange(off, SkBuffMd.Tstamp, 8) || InRange(off, SkBuffMd.QueueMapping, 4)))
        {
            return false;
        }

        if (InRange(off, SkBuffMd.Data, 4))
        {
            info.RegType = RegType.PtrToPacket;
        }
        else if (InRange(off, SkBuffMd.DataMeta, 4))
        {
            info.RegType = RegType.PtrToPacketMeta;
        }
        else if (InRange(off, SkBuffMd.DataEnd, 4))
        {
            info.RegType = RegType.PtrToPacketEnd;
        }
        else if (InRange(off, SkBuffMd.Family, SkBuffMd.LocalPort + 4 - SkBuffMd.Family))
        {
            return false;
        }
        else if (off == SkBuffMd.TstampType)
        {
            // The kernel also sets prog->tstamp_type_access here: the program knows tstamp may hold a delivery
            // time, so tstamp is then read and written as it is (see CtxAccessRewriter).
            return size == sizeof(byte);
        }

        return IsValidSkbAccess(off, size, type, isLdsx, ref info);
    }
}
