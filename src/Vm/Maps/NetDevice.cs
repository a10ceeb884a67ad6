namespace VethXdp.Vm.Maps;

/// <summary>A network device as devmaps see it (the kernel's struct net_device, reduced to what maps need).</summary>
public interface INetDevice
{
    /// <summary>The interface index (dev->ifindex).</summary>
    int Ifindex { get; }

    /// <summary>The interface name ("eth0", "veth1").</summary>
    string Name { get; }

    /// <summary>The MTU.</summary>
    uint Mtu { get; }
}

/// <summary>Finds devices by ifindex (the kernel's dev_get_by_index in the map's network namespace).</summary>
public interface INetDeviceResolver
{
    /// <summary>The device with <paramref name="ifindex"/>, or null when there is none.</summary>
    INetDevice? Find(int ifindex);
}
