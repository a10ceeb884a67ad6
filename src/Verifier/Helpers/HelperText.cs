using System.Text;
using VethXdp.Verifier.State;

namespace VethXdp.Verifier.Helpers;

/// <summary>The kernel's spelling of argument and return types (include/linux/bpf.h), for diagnostics and tests; cold
/// paths only.</summary>
internal static class HelperText
{
    private static readonly string[] s_argNames =
    [
        "ARG_DONTCARE", "ARG_CONST_MAP_PTR", "ARG_PTR_TO_MAP_KEY", "ARG_PTR_TO_MAP_VALUE", "ARG_PTR_TO_MEM",
        "ARG_PTR_TO_ARENA", "ARG_CONST_SIZE", "ARG_CONST_SIZE_OR_ZERO", "ARG_PTR_TO_CTX", "ARG_ANYTHING",
        "ARG_PTR_TO_SPIN_LOCK", "ARG_PTR_TO_SOCK_COMMON", "ARG_PTR_TO_SOCKET", "ARG_PTR_TO_BTF_ID",
        "ARG_PTR_TO_RINGBUF_MEM", "ARG_CONST_ALLOC_SIZE_OR_ZERO", "ARG_PTR_TO_BTF_ID_SOCK_COMMON",
        "ARG_PTR_TO_PERCPU_BTF_ID", "ARG_PTR_TO_FUNC", "ARG_PTR_TO_STACK", "ARG_PTR_TO_CONST_STR", "ARG_PTR_TO_TIMER",
        "ARG_KPTR_XCHG_DEST", "ARG_PTR_TO_DYNPTR",
    ];

    private static readonly string[] s_retNames =
    [
        "RET_INTEGER", "RET_VOID", "RET_PTR_TO_MAP_VALUE", "RET_PTR_TO_SOCKET", "RET_PTR_TO_TCP_SOCK",
        "RET_PTR_TO_SOCK_COMMON", "RET_PTR_TO_MEM", "RET_PTR_TO_MEM_OR_BTF_ID", "RET_PTR_TO_BTF_ID",
    ];

    // enum bpf_type_flag, in the kernel's bit order.
    private static readonly (RegTypeFlags Flag, string Name)[] s_flags =
    [
        (RegTypeFlags.MaybeNull, "PTR_MAYBE_NULL"), (RegTypeFlags.MemRdonly, "MEM_RDONLY"),
        (RegTypeFlags.MemRingbuf, "MEM_RINGBUF"), (RegTypeFlags.MemUser, "MEM_USER"),
        (RegTypeFlags.MemPercpu, "MEM_PERCPU"), (RegTypeFlags.ObjRelease, "OBJ_RELEASE"),
        (RegTypeFlags.PtrUntrusted, "PTR_UNTRUSTED"), (RegTypeFlags.MemUninit, "MEM_UNINIT"),
        (RegTypeFlags.DynptrTypeLocal, "DYNPTR_TYPE_LOCAL"), (RegTypeFlags.DynptrTypeRingbuf, "DYNPTR_TYPE_RINGBUF"),
        (RegTypeFlags.MemFixedSize, "MEM_FIXED_SIZE"), (RegTypeFlags.MemAlloc, "MEM_ALLOC"),
        (RegTypeFlags.PtrTrusted, "PTR_TRUSTED"), (RegTypeFlags.MemRcu, "MEM_RCU"),
        (RegTypeFlags.NonOwnRef, "NON_OWN_REF"), (RegTypeFlags.DynptrTypeSkb, "DYNPTR_TYPE_SKB"),
        (RegTypeFlags.DynptrTypeXdp, "DYNPTR_TYPE_XDP"), (RegTypeFlags.MemAligned, "MEM_ALIGNED"),
        (HelperArg.MemWrite, "MEM_WRITE"),
    ];

    /// <summary>"ARG_PTR_TO_MEM | MEM_UNINIT | MEM_WRITE".</summary>
    public static string Arg(HelperArg arg) => Join(s_argNames[(int)arg.Type], arg.Flags);

    /// <summary>"RET_PTR_TO_MAP_VALUE | PTR_MAYBE_NULL".</summary>
    public static string Ret(RetType ret, RegTypeFlags flags) => Join(s_retNames[(int)ret], flags);

    /// <summary>The prototype in the shape of the kernel's initialiser.</summary>
    public static string Proto(HelperProto p)
    {
        var sb = new StringBuilder();
        sb.Append(p.KernelName).Append(" (#").Append(p.Id).Append(' ').Append(p.LogName).Append("): ret=")
            .Append(Ret(p.Ret, p.RetFlags));
        for (int i = 0; i < p.ArgCount; i++)
        {
            sb.Append(", arg").Append(i + 1).Append('=').Append(Arg(p.Args[i]));
        }

        if (p.GplOnly)
        {
            sb.Append(", gpl_only");
        }

        if (p.PktAccess)
        {
            sb.Append(", pkt_access");
        }

        if (p.MightSleep)
        {
            sb.Append(", might_sleep");
        }

        return sb.ToString();
    }

    private static string Join(string baseName, RegTypeFlags flags)
    {
        if (flags == RegTypeFlags.None)
        {
            return baseName;
        }

        var sb = new StringBuilder(baseName);
        foreach (var (flag, name) in s_flags)
        {
            if ((flags & flag) != 0)
            {
                sb.Append(" | ").Append(name);
            }
        }

        return sb.ToString();
    }
}
