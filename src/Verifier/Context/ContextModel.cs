using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Context;

/// <summary>What a program type may do with its context pointer (R1 at entry): the per-type half of the kernel's
/// <c>struct bpf_verifier_ops</c> that check_ctx_access and check_mem_access consult (is_valid_access) and the
/// direct-packet-access rule (may_access_direct_pkt_data). The rewrite of the accesses lives in
/// <see cref="Fixups.CtxAccessRewriter"/>.</summary>
/// <remarks>Instances are immutable and may be shared between verifications.</remarks>
public abstract class ContextModel
{
    /// <summary>Creates the model of <paramref name="type"/> loaded with <paramref name="expectedAttachType"/>.</summary>
    /// <param name="type">The program type.</param>
    /// <param name="expectedAttachType">expected_attach_type of BPF_PROG_LOAD.</param>
    private protected ContextModel(ProgramType type, uint expectedAttachType)
    {
        Type = type;
        ExpectedAttachType = expectedAttachType;
    }

    /// <summary>The program type.</summary>
    public ProgramType Type { get; }

    /// <summary>expected_attach_type the program was loaded with (enum bpf_attach_type).</summary>
    public uint ExpectedAttachType { get; }

    /// <summary>The uapi struct the program sees ("xdp_md", "__sk_buff").</summary>
    public abstract string StructName { get; }

    /// <summary>sizeof the uapi struct: 24 for xdp_md, 192 for __sk_buff.</summary>
    public abstract int Size { get; }

    /// <summary>The program type's is_valid_access for a plain (not sign-extending) access: true when a
    /// <paramref name="size"/>-byte <paramref name="type"/> at <paramref name="off"/> is allowed;
    /// <paramref name="info"/> then says what a load yields and which field size a narrow load is widened to.</summary>
    /// <param name="off">Offset into the context (the instruction's offset; the kernel refuses ctx pointers that
    /// carry an offset of their own before asking).</param>
    /// <param name="size">Access size in bytes: 1, 2, 4 or 8.</param>
    /// <param name="type">Read or write.</param>
    /// <param name="info">On success what check_ctx_access records; on failure <see cref="CtxAccessInfo.Scalar"/>.</param>
    /// <returns>False: the kernel rejects with <see cref="CtxMessages.InvalidAccess"/> (EACCES).</returns>
    public bool IsValidAccess(int off, int size, CtxAccessType type, out CtxAccessInfo info) =>
        IsValidAccess(off, size, type, isLdsx: false, out info);

    /// <summary>The program type's is_valid_access, with <c>info-&gt;is_ldsx</c>: <paramref name="isLdsx"/> is true
    /// for a sign-extending load (BPF_LDX | BPF_MEMSX), which the kernel refuses on pointer fields.</summary>
    /// <param name="off">Offset into the context.</param>
    /// <param name="size">Access size in bytes: 1, 2, 4 or 8.</param>
    /// <param name="type">Read or write.</param>
    /// <param name="isLdsx">True for a sign-extending load.</param>
    /// <param name="info">On success what check_ctx_access records; on failure <see cref="CtxAccessInfo.Scalar"/>.</param>
    /// <returns>False: the kernel rejects with <see cref="CtxMessages.InvalidAccess"/> (EACCES).</returns>
    public bool IsValidAccess(int off, int size, CtxAccessType type, bool isLdsx, out CtxAccessInfo info)
    {
        info = CtxAccessInfo.Scalar;
        if (size is not (1 or 2 or 4 or 8))
        {
            return false;
        }

        bool ok = IsValidAccessCore(off, size, type, isLdsx, ref info);
        if (!ok)
        {
            info = CtxAccessInfo.Scalar;
        }

        return ok;
    }

    /// <summary>may_access_direct_pkt_data without a helper's meta: whether the program may read (or write) packet
    /// memory through PTR_TO_PACKET registers. For the types here, a true answer is also where the kernel sets
    /// <c>env-&gt;seen_direct_write</c> (it calls this only for direct writes), which the rewrite needs for tc's
    /// prologue.</summary>
    /// <param name="t">The access direction.</param>
    public abstract bool MayAccessDirectPacketData(CtxAccessType t);

    /// <summary>The model of <paramref name="type"/>; <see cref="NotSupportedException"/> for a type without one
    /// (supported: xdp, socket_filter, sched_cls, sched_act).</summary>
    /// <param name="type">The program type.</param>
    /// <param name="expectedAttachType">expected_attach_type (XDP: BPF_XDP_DEVMAP (33) may read egress_ifindex).</param>
    /// <param name="devBound">XDP only: the program is device-bound (prog_ifindex with BPF_F_XDP_DEV_BOUND_ONLY, or
    /// offloaded), which lets it write rx_queue_index.</param>
    /// <exception cref="NotSupportedException">No model for <paramref name="type"/>.</exception>
    public static ContextModel For(ProgramType type, uint expectedAttachType, bool devBound = false) =>
        TryFor(type, expectedAttachType, devBound)
        ?? throw new NotSupportedException($"no context model for program type {type} ({(uint)type})");

    /// <summary>The model of <paramref name="type"/>, or null for a type without one.</summary>
    /// <param name="type">The program type.</param>
    /// <param name="expectedAttachType">expected_attach_type.</param>
    /// <param name="devBound">XDP only: the program is device-bound.</param>
    public static ContextModel? TryFor(ProgramType type, uint expectedAttachType, bool devBound = false) => type switch
    {
        ProgramType.Xdp => new XdpContextModel(expectedAttachType, devBound),
        ProgramType.SocketFilter => new SocketFilterContextModel(expectedAttachType),
        ProgramType.SchedCls or ProgramType.SchedAct => new TcClsActContextModel(type, expectedAttachType),
        _ => null,
    };

    /// <summary>The type-specific check; <paramref name="info"/> starts as a scalar with nothing recorded.</summary>
    /// <param name="off">Offset into the context.</param>
    /// <param name="size">1, 2, 4 or 8.</param>
    /// <param name="type">Read or write.</param>
    /// <param name="isLdsx">A sign-extending load.</param>
    /// <param name="info">What a load yields.</param>
    private protected abstract bool IsValidAccessCore(int off, int size, CtxAccessType type, bool isLdsx, ref CtxAccessInfo info);

    /// <summary>bpf_ctx_narrow_access_ok: a load narrower than the field, of a power-of-two size.</summary>
    /// <param name="size">The access size.</param>
    /// <param name="sizeDefault">The field size.</param>
    private protected static bool NarrowAccessOk(int size, int sizeDefault) => size <= sizeDefault && (size & (size - 1)) == 0;

    /// <summary>True when <paramref name="off"/> lies in [<paramref name="start"/>, <paramref name="start"/> +
    /// <paramref name="length"/>): the kernel's <c>bpf_ctx_range</c> case labels.</summary>
    /// <param name="off">The offset.</param>
    /// <param name="start">The field's offset.</param>
    /// <param name="length">The field's size.</param>
    private protected static bool InRange(int off, int start, int length) => (uint)(off - start) < (uint)length;
}
