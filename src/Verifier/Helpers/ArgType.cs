namespace VethXdp.Verifier.Helpers;

/// <summary>The base type of a helper argument (include/linux/bpf.h, <c>enum bpf_arg_type</c>), in the kernel's order
/// and with its values; the modifiers the kernel ORs into the same word (<c>PTR_MAYBE_NULL</c>, <c>MEM_RDONLY</c>,
/// <c>MEM_UNINIT</c>, <c>MEM_WRITE</c>, <c>MEM_FIXED_SIZE</c>, <c>OBJ_RELEASE</c>, <c>DYNPTR_TYPE_*</c> ...) travel in
/// <see cref="HelperArg.Flags"/>.</summary>
/// <remarks>The kernel's composite names map onto a base plus flags: <c>ARG_PTR_TO_UNINIT_MEM</c> = <see cref="PtrToMem"/>
/// | MEM_UNINIT | MEM_WRITE, <c>ARG_PTR_TO_FIXED_SIZE_MEM</c> = <see cref="PtrToMem"/> | MEM_FIXED_SIZE,
/// <c>ARG_PTR_TO_*_OR_NULL</c> = the base | PTR_MAYBE_NULL. Linux 6.18 has no ARG_PTR_TO_LONG/INT any more: those are
/// fixed-size memory with <see cref="HelperArg.Size"/> 8 or 4.</remarks>
public enum ArgType : byte
{
    /// <summary>ARG_DONTCARE: unused argument.</summary>
    DontCare = 0,

    /// <summary>ARG_CONST_MAP_PTR: a map pointer from ld_imm64 (<c>map_ptr</c>).</summary>
    ConstMapPtr = 1,

    /// <summary>ARG_PTR_TO_MAP_KEY: memory holding a key of the map given in an earlier argument.</summary>
    PtrToMapKey = 2,

    /// <summary>ARG_PTR_TO_MAP_VALUE: memory holding a value of the map given in an earlier argument.</summary>
    PtrToMapValue = 3,

    /// <summary>ARG_PTR_TO_MEM: memory of the size given in the next argument (or fixed, with MEM_FIXED_SIZE).</summary>
    PtrToMem = 4,

    /// <summary>ARG_PTR_TO_ARENA.</summary>
    PtrToArena = 5,

    /// <summary>ARG_CONST_SIZE: the (bounded, non-zero) size of the memory in the previous argument.</summary>
    ConstSize = 6,

    /// <summary>ARG_CONST_SIZE_OR_ZERO: as <see cref="ConstSize"/>, zero allowed.</summary>
    ConstSizeOrZero = 7,

    /// <summary>ARG_PTR_TO_CTX: the program's context, unmodified.</summary>
    PtrToCtx = 8,

    /// <summary>ARG_ANYTHING: any initialised value.</summary>
    Anything = 9,

    /// <summary>ARG_PTR_TO_SPIN_LOCK: a <c>struct bpf_spin_lock</c> inside a map value (or allocated object).</summary>
    PtrToSpinLock = 10,

    /// <summary>ARG_PTR_TO_SOCK_COMMON: sock_common, sock or tcp_sock.</summary>
    PtrToSockCommon = 11,

    /// <summary>ARG_PTR_TO_SOCKET: a full socket.</summary>
    PtrToSocket = 12,

    /// <summary>ARG_PTR_TO_BTF_ID: a kernel object of the type in <see cref="HelperArg.BtfType"/>.</summary>
    PtrToBtfId = 13,

    /// <summary>ARG_PTR_TO_RINGBUF_MEM: a record from bpf_ringbuf_reserve (<c>ringbuf_mem</c>).</summary>
    PtrToRingbufMem = 14,

    /// <summary>ARG_CONST_ALLOC_SIZE_OR_ZERO: a known constant size for a memory allocation.</summary>
    ConstAllocSizeOrZero = 15,

    /// <summary>ARG_PTR_TO_BTF_ID_SOCK_COMMON: any socket pointer, or a BTF sock_common.</summary>
    PtrToBtfIdSockCommon = 16,

    /// <summary>ARG_PTR_TO_PERCPU_BTF_ID: a per-CPU kernel variable.</summary>
    PtrToPercpuBtfId = 17,

    /// <summary>ARG_PTR_TO_FUNC: a subprogram address (callback), from ld_imm64 src=4.</summary>
    PtrToFunc = 18,

    /// <summary>ARG_PTR_TO_STACK: a pointer into the stack (callback context).</summary>
    PtrToStack = 19,

    /// <summary>ARG_PTR_TO_CONST_STR: a NUL-terminated string in a read-only map.</summary>
    PtrToConstStr = 20,

    /// <summary>ARG_PTR_TO_TIMER: a <c>struct bpf_timer</c> inside a map value.</summary>
    PtrToTimer = 21,

    /// <summary>ARG_KPTR_XCHG_DEST: a referenced kptr field for bpf_kptr_xchg.</summary>
    KptrXchgDest = 22,

    /// <summary>ARG_PTR_TO_DYNPTR: a <c>struct bpf_dynptr</c> on the stack (or CONST_PTR_TO_DYNPTR).</summary>
    PtrToDynptr = 23,
}
