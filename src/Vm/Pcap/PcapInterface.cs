namespace VethXdp.Vm.Pcap;

/// <summary>An interface a capture file describes: the single implicit one of a classic pcap file, or a pcapng
/// Interface Description Block.</summary>
/// <param name="Id">The interface id within its section (the IDB's position, from 0); 0 for classic pcap.</param>
/// <param name="LinkType">The link type (<see cref="LinkTypes"/>).</param>
/// <param name="SnapLength">The snapshot length; 0 means unlimited.</param>
/// <param name="Name">The <c>if_name</c> option, or null.</param>
/// <param name="TsResolutionCode">The <c>if_tsresol</c> byte: bit 7 clear = 10^-n seconds, set = 2^-n seconds
/// (n in the low 7 bits); 6 (microseconds) when the option is absent.</param>
/// <param name="TsOffsetSeconds">The <c>if_tsoffset</c> option: seconds added to every timestamp; 0 when absent.</param>
public sealed record PcapInterface(int Id, uint LinkType, uint SnapLength, string? Name, byte TsResolutionCode, long TsOffsetSeconds);
