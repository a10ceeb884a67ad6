namespace VethXdp.Devices.Frames;

/// <summary>One frame in flight: the kernel's xdp_frame (or, with <see cref="Skb"/>, an sk_buff) reduced to what the
/// rings carry. The bytes live in the <see cref="FramePool"/>; the descriptor only names them.</summary>
/// <param name="Frame">The frame's index in the pool.</param>
/// <param name="Headroom">Offset of the first packet byte (data) from the frame's start (data_hard_start).</param>
/// <param name="Length">Packet bytes (data_end - data).</param>
/// <param name="Ifindex">For xdp_frames: the device the frame was received on (xdpf->dev_rx); for skbs: skb->dev.</param>
/// <param name="Skb">True when the frame travels as an sk_buff (generic XDP, veth_xmit, the backlog).</param>
public readonly record struct XdpDesc(int Frame, ushort Headroom, ushort Length, int Ifindex, bool Skb = false);
