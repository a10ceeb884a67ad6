namespace VethXdp.Verifier.Helpers;

/// <summary>What a helper returns in R0 (include/linux/bpf.h, <c>enum bpf_return_type</c>), in the kernel's order and
/// with its values; modifiers (<c>PTR_MAYBE_NULL</c>, <c>MEM_RINGBUF</c>, <c>MEM_RDONLY</c>, <c>PTR_TRUSTED</c>) are in
/// <see cref="HelperProto.RetFlags"/>.</summary>
/// <remarks>Composite kernel names: <c>RET_PTR_TO_RINGBUF_MEM_OR_NULL</c> = <see cref="PtrToMem"/> | MEM_RINGBUF |
/// PTR_MAYBE_NULL, <c>RET_PTR_TO_DYNPTR_MEM_OR_NULL</c> = <see cref="PtrToMem"/> | PTR_MAYBE_NULL,
/// <c>RET_PTR_TO_BTF_ID_TRUSTED</c> = <see cref="PtrToBtfId"/> | PTR_TRUSTED.</remarks>
public enum RetType : byte
{
    /// <summary>RET_INTEGER: an unknown scalar.</summary>
    Integer = 0,

    /// <summary>RET_VOID: R0 is left uninitialised (NOT_INIT).</summary>
    Void = 1,

    /// <summary>RET_PTR_TO_MAP_VALUE: a value of the map passed as an argument.</summary>
    PtrToMapValue = 2,

    /// <summary>RET_PTR_TO_SOCKET.</summary>
    PtrToSocket = 3,

    /// <summary>RET_PTR_TO_TCP_SOCK.</summary>
    PtrToTcpSock = 4,

    /// <summary>RET_PTR_TO_SOCK_COMMON.</summary>
    PtrToSockCommon = 5,

    /// <summary>RET_PTR_TO_MEM: memory of a size known from an argument (ringbuf records, dynptr slices).</summary>
    PtrToMem = 6,

    /// <summary>RET_PTR_TO_MEM_OR_BTF_ID: a per-CPU variable as memory or as a BTF object.</summary>
    PtrToMemOrBtfId = 7,

    /// <summary>RET_PTR_TO_BTF_ID: a kernel object of type <see cref="HelperProto.RetBtfType"/>.</summary>
    PtrToBtfId = 8,
}
