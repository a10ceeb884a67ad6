namespace VethXdp.Verifier.State;

/// <summary>The base type of a register or spilled value (include/linux/bpf.h, <c>enum bpf_reg_type</c>); the
/// modifiers that the kernel ORs into the same word live in <see cref="RegTypeFlags"/>.</summary>
public enum RegType : byte
{
    /// <summary>NOT_INIT: nothing written yet; reading it is <c>R%d !read_ok</c>.</summary>
    NotInit = 0,

    /// <summary>SCALAR_VALUE: a number, tracked by tnum and ranges.</summary>
    Scalar,

    /// <summary>PTR_TO_CTX: the program's context (<c>ctx()</c>).</summary>
    PtrToCtx,

    /// <summary>CONST_PTR_TO_MAP: a map, from ld_imm64 src=1 (<c>map_ptr</c>).</summary>
    ConstPtrToMap,

    /// <summary>PTR_TO_MAP_VALUE: into a map value (<c>map_value</c>).</summary>
    PtrToMapValue,

    /// <summary>PTR_TO_MAP_KEY: into a map key, given to for_each_map_elem callbacks (<c>map_key</c>).</summary>
    PtrToMapKey,

    /// <summary>PTR_TO_STACK: the frame pointer plus an offset (<c>fp</c>).</summary>
    PtrToStack,

    /// <summary>PTR_TO_PACKET_META: xdp data_meta / skb data_meta (<c>pkt_meta</c>).</summary>
    PtrToPacketMeta,

    /// <summary>PTR_TO_PACKET: packet data (<c>pkt</c>).</summary>
    PtrToPacket,

    /// <summary>PTR_TO_PACKET_END: one past the packet (<c>pkt_end</c>).</summary>
    PtrToPacketEnd,

    /// <summary>PTR_TO_FLOW_KEYS (<c>flow_keys</c>).</summary>
    PtrToFlowKeys,

    /// <summary>PTR_TO_SOCKET (<c>sock</c>).</summary>
    PtrToSocket,

    /// <summary>PTR_TO_SOCK_COMMON (<c>sock_common</c>).</summary>
    PtrToSockCommon,

    /// <summary>PTR_TO_TCP_SOCK (<c>tcp_sock</c>).</summary>
    PtrToTcpSock,

    /// <summary>PTR_TO_TP_BUFFER (<c>tp_buffer</c>).</summary>
    PtrToTpBuffer,

    /// <summary>PTR_TO_XDP_SOCK (<c>xdp_sock</c>).</summary>
    PtrToXdpSock,

    /// <summary>PTR_TO_BTF_ID: a kernel object described by BTF (<c>ptr_</c> + type name).</summary>
    PtrToBtfId,

    /// <summary>PTR_TO_MEM: a sized region (<c>mem</c>; ringbuf records are <c>ringbuf_mem</c>).</summary>
    PtrToMem,

    /// <summary>PTR_TO_ARENA (<c>arena</c>).</summary>
    PtrToArena,

    /// <summary>PTR_TO_BUF (<c>buf</c>).</summary>
    PtrToBuf,

    /// <summary>PTR_TO_FUNC: a subprogram's address, from ld_imm64 src=4 (<c>func</c>).</summary>
    PtrToFunc,

    /// <summary>CONST_PTR_TO_DYNPTR (<c>dynptr_ptr</c>).</summary>
    ConstPtrToDynptr,
}

/// <summary>The modifier bits the kernel ORs into <c>enum bpf_reg_type</c> / <c>bpf_arg_type</c> /
/// <c>bpf_return_type</c> (include/linux/bpf.h, <c>enum bpf_type_flag</c>), in the kernel's order.</summary>
/// <remarks>
/// <code>
///  bit:  0          1         2          3        4         5          6            7           8..10
///       MAYBE_NULL MEM_RDONLY MEM_RINGBUF MEM_USER MEM_PERCPU OBJ_RELEASE PTR_UNTRUSTED MEM_UNINIT  DYNPTR_TYPE_*
///  bit:  10              11        12           13         14       15            16            17          18        19
///       MEM_FIXED_SIZE  MEM_ALLOC PTR_TRUSTED  MEM_RCU    NON_OWN  DYNPTR_SKB    DYNPTR_XDP    MEM_ALIGNED MEM_WRITE DYNPTR_SKB_META
/// </code>
/// </remarks>
[Flags]
public enum RegTypeFlags : uint
{
    /// <summary>No modifier.</summary>
    None = 0,

    /// <summary>PTR_MAYBE_NULL: <c>_or_null</c>; must be compared with 0 before use.</summary>
    MaybeNull = 1 << 0,

    /// <summary>MEM_RDONLY: <c>rdonly_</c>; the program may not write through it.</summary>
    MemRdonly = 1 << 1,

    /// <summary>MEM_RINGBUF: <c>ringbuf_</c>; a record from bpf_ringbuf_reserve.</summary>
    MemRingbuf = 1 << 2,

    /// <summary>MEM_USER: <c>user_</c>.</summary>
    MemUser = 1 << 3,

    /// <summary>MEM_PERCPU: <c>percpu_</c>.</summary>
    MemPercpu = 1 << 4,

    /// <summary>OBJ_RELEASE: the argument releases a reference.</summary>
    ObjRelease = 1 << 5,

    /// <summary>PTR_UNTRUSTED: <c>untrusted_</c>.</summary>
    PtrUntrusted = 1 << 6,

    /// <summary>MEM_UNINIT: the helper writes the memory; it need not be initialised.</summary>
    MemUninit = 1 << 7,

    /// <summary>DYNPTR_TYPE_LOCAL.</summary>
    DynptrTypeLocal = 1 << 8,

    /// <summary>DYNPTR_TYPE_RINGBUF.</summary>
    DynptrTypeRingbuf = 1 << 9,

    /// <summary>MEM_FIXED_SIZE: the size comes from the prototype's arg_size.</summary>
    MemFixedSize = 1 << 10,

    /// <summary>MEM_ALLOC: <c>alloc_</c>.</summary>
    MemAlloc = 1 << 11,

    /// <summary>PTR_TRUSTED: <c>trusted_</c>.</summary>
    PtrTrusted = 1 << 12,

    /// <summary>MEM_RCU: <c>rcu_</c>.</summary>
    MemRcu = 1 << 13,

    /// <summary>NON_OWN_REF.</summary>
    NonOwnRef = 1 << 14,

    /// <summary>DYNPTR_TYPE_SKB.</summary>
    DynptrTypeSkb = 1 << 15,

    /// <summary>DYNPTR_TYPE_XDP.</summary>
    DynptrTypeXdp = 1 << 16,

    /// <summary>MEM_ALIGNED.</summary>
    MemAligned = 1 << 17,

    /// <summary>MEM_WRITE: the helper writes the memory.</summary>
    MemWrite = 1 << 18,

    /// <summary>DYNPTR_TYPE_SKB_META.</summary>
    DynptrTypeSkbMeta = 1 << 19,
}
