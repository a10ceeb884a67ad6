namespace VethXdp.Vm.Runtime;

/// <summary>An XDP program's verdict (enum xdp_action), or <see cref="Unknown"/> for any other return value.</summary>
public enum XdpAction
{
    /// <summary>A return value that is not one of the five verdicts (the kernel treats it as XDP_ABORTED and warns).</summary>
    Unknown = -1,
    /// <summary>XDP_ABORTED: drop, counted as an error.</summary>
    Aborted = 0,
    /// <summary>XDP_DROP.</summary>
    Drop = 1,
    /// <summary>XDP_PASS: on to the network stack.</summary>
    Pass = 2,
    /// <summary>XDP_TX: back out of the receiving device.</summary>
    Tx = 3,
    /// <summary>XDP_REDIRECT: to the target bpf_redirect or bpf_redirect_map set.</summary>
    Redirect = 4,
}

/// <summary>Names of <see cref="XdpAction"/> as the kernel spells them.</summary>
public static class XdpActions
{
    /// <summary>The action for a return value: its low 32 bits, if one of the five verdicts.</summary>
    public static XdpAction FromRetval(uint retval) => retval <= 4 ? (XdpAction)retval : XdpAction.Unknown;

    /// <summary>"XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT", or "unknown".</summary>
    public static string KernelName(XdpAction action) => action switch
    {
        XdpAction.Aborted => "XDP_ABORTED",
        XdpAction.Drop => "XDP_DROP",
        XdpAction.Pass => "XDP_PASS",
        XdpAction.Tx => "XDP_TX",
        XdpAction.Redirect => "XDP_REDIRECT",
        _ => "unknown",
    };
}
