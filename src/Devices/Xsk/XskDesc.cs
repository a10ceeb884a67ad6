using System.Runtime.InteropServices;

namespace VethXdp.Devices.Xsk;

/// <summary>struct xdp_desc: one RX or TX ring entry (16 bytes).</summary>
/// <param name="Addr">The frame's address in the UMEM (offset from its start).</param>
/// <param name="Len">Bytes of packet data.</param>
/// <param name="Options">Option flags (XDP_PKT_CONTD...; must be 0 here).</param>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct XskDesc(ulong Addr, uint Len, uint Options = 0);
