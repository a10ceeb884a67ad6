namespace VethXdp.Vm.Helpers;

/// <summary>Linux helper ids (<c>enum bpf_func_id</c>) of the helpers this VM implements.</summary>
public enum HelperId
{
    /// <summary>BPF_FUNC_ktime_get_ns: u64 bpf_ktime_get_ns(void).</summary>
    KtimeGetNs = 5,
}
