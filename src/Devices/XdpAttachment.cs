namespace VethXdp.Devices;

/// <summary>How a program is attached to a device.</summary>
public enum XdpMode
{
    /// <summary>Driver (native) XDP: XDP_FLAGS_DRV_MODE, run by the driver's NAPI poll on raw frames.</summary>
    Native,

    /// <summary>Generic (skb) XDP: XDP_FLAGS_SKB_MODE, run in netif_receive_skb once an skb exists.</summary>
    Generic,
}

/// <summary>A program attached to a device: one <see cref="XdpProgramInstance"/> per simulated CPU.</summary>
/// <param name="ObjectName">The scenario's name for the object.</param>
/// <param name="ProgramName">The program's name.</param>
/// <param name="Mode">Native or generic.</param>
/// <param name="PerCpu">The instances, indexed by CPU.</param>
public sealed record XdpAttachment(string ObjectName, string ProgramName, XdpMode Mode, XdpProgramInstance[] PerCpu);
