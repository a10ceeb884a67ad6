namespace VethXdp.Devices.Scenarios;

/// <summary>Where a scenario attaches a program, which decides how Linux loads and verifies it.</summary>
public enum ProgramAttachKind
{
    /// <summary>XDP in driver mode on a device (XDP_FLAGS_DRV_MODE).</summary>
    Native,

    /// <summary>XDP in generic (skb) mode on a device (XDP_FLAGS_SKB_MODE).</summary>
    Generic,

    /// <summary>A devmap entry's egress program (expected_attach_type BPF_XDP_DEVMAP).</summary>
    DevmapEgress,
}
