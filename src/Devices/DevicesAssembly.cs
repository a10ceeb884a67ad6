namespace VethXdp.Devices;

/// <summary>Marks the VethXdp.Devices assembly: NIC and veth models, devmap bulk queues, NAPI, the simulator.</summary>
public static class DevicesAssembly
{
    /// <summary>The assembly's name.</summary>
    public const string Name = "VethXdp.Devices";
}
