using System.Collections.Immutable;
using VethXdp.Verifier.State;

namespace VethXdp.Verifier.Helpers;

/// <summary>A helper's prototype as the verifier checks a call against it: the kernel's <c>struct bpf_func_proto</c>
/// (include/linux/bpf.h) for one program type, plus the per-id facts <c>check_helper_call()</c> looks up elsewhere
/// (<c>bpf_helper_changes_pkt_data()</c>, <c>is_acquire_function()</c>, <c>is_ptr_cast_function()</c>).</summary>
public sealed record HelperProto
{
    /// <summary>The helper id (<c>enum bpf_func_id</c>).</summary>
    public required int Id { get; init; }

    /// <summary>The helper's name without the <c>bpf_</c> prefix, as <c>HelperNames</c> gives it after the prefix
    /// ("map_lookup_elem").</summary>
    public required string Name { get; init; }

    /// <summary>The kernel's name for the prototype object, which tells variants apart
    /// ("bpf_xdp_event_output_proto" vs "bpf_skb_event_output_proto").</summary>
    public required string KernelName { get; init; }

    /// <summary>The return type's base (<c>base_type(ret_type)</c>).</summary>
    public required RetType Ret { get; init; }

    /// <summary>The return type's modifiers (<c>type_flag(ret_type)</c>): MaybeNull, MemRingbuf, MemRdonly, PtrTrusted.</summary>
    public RegTypeFlags RetFlags { get; init; }

    /// <summary><c>ret_size</c>: the size of fixed-size returned memory, else 0.</summary>
    public int RetSize { get; init; }

    /// <summary>The struct behind <c>ret_btf_id</c> for BTF returns ("tcp_sock", "task_struct"); null when there is none
    /// or when the verifier decides it (<c>BPF_PTR_POISON</c>, bpf_kptr_xchg).</summary>
    public string? RetBtfType { get; init; }

    /// <summary>The five arguments (R1..R5), unused ones <see cref="ArgType.DontCare"/>.</summary>
    public required ImmutableArray<HelperArg> Args { get; init; }

    /// <summary><c>gpl_only</c>: "cannot call GPL-restricted function from non-GPL compatible program".</summary>
    public bool GplOnly { get; init; }

    /// <summary><c>pkt_access</c>: packet pointers may be passed as memory arguments.</summary>
    public bool PktAccess { get; init; }

    /// <summary><c>might_sleep</c>: "helper call might sleep in a non-sleepable prog".</summary>
    public bool MightSleep { get; init; }

    /// <summary><c>bpf_helper_changes_pkt_data()</c>: the call invalidates every packet pointer.</summary>
    public bool ChangesPktData => HelperProtos.ChangesPktData(Id);

    /// <summary><c>is_acquire_function()</c> without the map case: R0 carries a new reference that must be released
    /// (sk_lookup_tcp/udp, skc_lookup_tcp, ringbuf_reserve, kptr_xchg). bpf_map_lookup_elem on a SOCKMAP/SOCKHASH also
    /// acquires; the caller checks that with the map at hand.</summary>
    public bool AcquiresReference => Id is 84 or 85 or 99 or 131 or 194;

    /// <summary><c>is_ptr_cast_function()</c>: R0 points into the same object as the argument and shares its reference
    /// (tcp_sock, sk_fullsock, skc_to_tcp/tcp6/udp6/mptcp/tcp_timewait/tcp_request_sock; not skc_to_unix_sock,
    /// whose result carries no reference in 6.18).</summary>
    public bool IsPtrCast => Id is 95 or 96 or 136 or 137 or 138 or 139 or 140 or 196;

    /// <summary>The index (0-4) of the OBJ_RELEASE argument, or -1 when the call releases nothing.</summary>
    public int ReleaseArg
    {
        get
        {
            for (int i = 0; i < Args.Length; i++)
            {
                if (Args[i].Releases)
                {
                    return i;
                }
            }

            return -1;
        }
    }

    /// <summary>The number of used arguments (the last one not <see cref="ArgType.DontCare"/>).</summary>
    public int ArgCount
    {
        get
        {
            int n = Args.Length;
            while (n > 0 && Args[n - 1].IsUnused)
            {
                n--;
            }

            return n;
        }
    }

    /// <summary>The return type in the kernel's spelling ("RET_PTR_TO_MAP_VALUE | PTR_MAYBE_NULL").</summary>
    public string RetText => HelperText.Ret(Ret, RetFlags);

    /// <summary>The helper's name as the verifier log prints it ("bpf_map_lookup_elem").</summary>
    public string LogName => "bpf_" + Name;

    /// <summary>The prototype in the kernel's spelling, one field per line, for diagnostics.</summary>
    public override string ToString() => HelperText.Proto(this);
}
