using VethXdp.Devices.Frames;

namespace VethXdp.Devices.Napi;

/// <summary>The per-CPU bulk queue of one target device (struct xdp_dev_bulk_queue): up to
/// <see cref="BulkSize"/> frames, the receiving device and the devmap egress program of the first frame, and whether
/// it is on the CPU's flush list.</summary>
internal sealed class BulkQueue
{
    /// <summary>DEV_MAP_BULK_SIZE.</summary>
    public const int BulkSize = 16;

    public readonly XdpDesc[] Q = new XdpDesc[BulkSize];
    public int Count;
    public NetDevice? DevRx;
    public XdpProgramInstance? Prog;

    public BulkQueue(NetDevice dev) => Dev = dev;

    public NetDevice Dev { get; }
}
