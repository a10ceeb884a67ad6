using VethXdp.Verifier.State;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Context;

/// <summary>The common part of the <c>struct __sk_buff</c> context (net/core/filter.c: bpf_skb_is_valid_access),
/// which socket filters and tc programs narrow further.</summary>
public abstract class SkBuffContextModel : ContextModel
{
    /// <summary>Creates the model.</summary>
    /// <param name="type">The program type.</param>
    /// <param name="expectedAttachType">expected_attach_type.</param>
    private protected SkBuffContextModel(ProgramType type, uint expectedAttachType)
        : base(type, expectedAttachType)
    {
    }

    /// <inheritdoc/>
    public override string StructName => "__sk_buff";

    /// <inheritdoc/>
    public override int Size => SkBuffMd.Size;

    /// <summary>bpf_skb_is_valid_access: the rules every __sk_buff program type shares.</summary>
    /// <param name="off">Offset.</param>
    /// <param name="size">1, 2, 4 or 8.</param>
    /// <param name="type">Read or write.</param>
    /// <param name="isLdsx">A sign-extending load.</param>
    /// <param name="info">Filled for sk and for narrow-loadable fields.</param>
    // kernel: bpf_skb_is_valid_access()
    private protected static bool IsValidSkbAccess(int off, int size, CtxAccessType type, bool isLdsx, ref CtxAccessInfo info)
    {
        const int sizeDefault = sizeof(uint);
        if (off < 0 || off >= SkBuffMd.Size)
        {
            return false;
        }

        // The verifier guarantees size > 0; every access is naturally aligned.
        if (off % size != 0)
        {
            return false;
        }

        if (InRange(off, SkBuffMd.Cb, SkBuffMd.CbEnd - SkBuffMd.Cb))
        {
            // cb[] is plain scratch memory: any size, as long as it stays inside cb[0..4]; no field size is recorded,
            // so the access is rewritten as it is.
            return off + size <= SkBuffMd.CbEnd;
        }

        if (InRange(off, SkBuffMd.Data, 4) || InRange(off, SkBuffMd.DataMeta, 4) || InRange(off, SkBuffMd.DataEnd, 4))
        {
            // Pointers: whole 4-byte loads only, never sign-extended.
            return !isLdsx && size == sizeDefault;
        }

        if (InRange(off, SkBuffMd.RemoteIp6, 16) || InRange(off, SkBuffMd.LocalIp6, 16)
            || InRange(off, SkBuffMd.RemoteIp4, 4) || InRange(off, SkBuffMd.LocalIp4, 4))
        {
            return size == sizeDefault;
        }

        if (InRange(off, SkBuffMd.FlowKeys, 8))
        {
            return false;   // flow dissector programs only
        }

        if (InRange(off, SkBuffMd.Hwtstamp, 8))
        {
            return type == CtxAccessType.Read && size == sizeof(ulong);
        }

        if (InRange(off, SkBuffMd.Tstamp, 8))
        {
            return size == sizeof(ulong);
        }

        if (InRange(off, SkBuffMd.Sk, 8))
        {
            if (type == CtxAccessType.Write || size != sizeof(ulong))
            {
                return false;
            }

            info.RegType = RegType.PtrToSockCommon;
            info.Flags = RegTypeFlags.MaybeNull;
            return true;
        }

        if (off == SkBuffMd.TstampType)
        {
            return false;   // tc allows it before asking here
        }

        if (off > SkBuffMd.TstampType && off < SkBuffMd.Hwtstamp)
        {
            return false;   // the padding after tstamp_type
        }

        // Everything else is a __u32: whole-word writes, and reads that may be narrow (widened by the rewrite).
        if (type == CtxAccessType.Write)
        {
            return size == sizeDefault;
        }

        info.CtxFieldSize = sizeDefault;   // bpf_ctx_record_field_size()
        return NarrowAccessOk(size, sizeDefault);
    }
}
