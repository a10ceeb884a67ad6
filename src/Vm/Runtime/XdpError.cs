namespace VethXdp.Vm.Runtime;

/// <summary>Why a packet has no verdict: refused before running (like BPF_PROG_TEST_RUN's -EINVAL for a frame shorter
/// than 14 bytes: no instruction), or stopped by a runtime check (the faulting instruction).</summary>
/// <param name="Insn">The slot index of the faulting instruction, or null when the packet was refused.</param>
/// <param name="Message">What went wrong, without the "insn N: " prefix.</param>
public sealed record XdpError(int? Insn, string Message)
{
    /// <summary>"insn 7: out-of-bounds load ..." or the message alone.</summary>
    public override string ToString() => Insn is { } pc ? $"insn {pc}: {Message}" : Message;
}
