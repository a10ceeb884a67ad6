namespace VethXdp.Kernel;

/// <summary>One packet of a cross-check: what the kernel and our VM made of it.</summary>
/// <param name="Index">The packet's index, from 0.</param>
/// <param name="Length">The frame's length in bytes.</param>
/// <param name="Kernel">The kernel's outcome.</param>
/// <param name="Vm">Our VM's outcome.</param>
/// <param name="Redirect">Our redirect target when our verdict is XDP_REDIRECT (BPF_PROG_TEST_RUN does not
/// redirect, so it has no counterpart), or null.</param>
/// <param name="Records">Ring buffer records the kernel's rings got for this packet (each compared with ours).</param>
public sealed record CrossCheckPacket(int Index, int Length, CrossCheckOutcome Kernel, CrossCheckOutcome Vm, string? Redirect, int Records = 0);
