using VethXdp.Devices.Napi;

namespace VethXdp.Devices.Xsk;

/// <summary>A user-space program over AF_XDP sockets that the simulator runs once per round, on one simulated CPU,
/// after that CPU's net_rx_action.</summary>
public interface IXskApp
{
    /// <summary>A name for reports.</summary>
    string Name { get; }

    /// <summary>One pass of the application's loop; true when it did work or still has work queued.</summary>
    bool Run(NapiContext cpu);
}
