using VethXdp.Vm.Isa;
using VethXdp.Vm.Memory;
using VethXdp.Vm.Xdp;

namespace VethXdp.Vm.Interpreter;

/// <summary>One executed instruction, as an <see cref="IExecutionTracer"/> sees it. Valid only during the call.</summary>
public readonly ref struct TraceStep
{
    /// <summary>The instruction's number in the run, from 1 (the interpreter's executed-instruction count when it
    /// started; a 64-bit immediate load counts once).</summary>
    public long Step { get; init; }

    /// <summary>The program the instruction belongs to (a tail call switches programs).</summary>
    public ExecutableProgram Program { get; init; }

    /// <summary>The instruction's slot in <see cref="Program"/>.</summary>
    public int Pc { get; init; }

    /// <summary>The instruction (the first slot of a 64-bit immediate load).</summary>
    public Instruction Instruction { get; init; }

    /// <summary>The call frame it ran in: 0 for the main function, one more per BPF-to-BPF call or callback.</summary>
    public int Depth { get; init; }

    /// <summary>The slot that runs next in this frame's program (the callee's entry after a call, the return address
    /// after a return, 0 after a tail call), or -1 after the final <see cref="TraceCallKind.Exit"/>.</summary>
    public int NextPc { get; init; }

    /// <summary>r0-r10 before the instruction.</summary>
    public ReadOnlySpan<ulong> Before { get; init; }

    /// <summary>r0-r10 after it (for <see cref="IExecutionTracer.OnHelperEnter"/>: as before).</summary>
    public ReadOnlySpan<ulong> After { get; init; }

    /// <summary>The memory the instruction itself read or wrote (none, one, or a load and a store for an atomic);
    /// accesses made by a helper are not included.</summary>
    public ReadOnlySpan<MemoryAccess> Accesses { get; init; }

    /// <summary>What the instruction did to the flow of calls.</summary>
    public TraceCallKind Call { get; init; }

    /// <summary>The helper or kfunc id of a <see cref="TraceCallKind.Helper"/> or <see cref="TraceCallKind.Kfunc"/>
    /// call; the callee's first slot for a <see cref="TraceCallKind.Local"/> call; 0 otherwise.</summary>
    public long CallId { get; init; }

    /// <summary>The helper's or kfunc's name in the interpreter's helper table, when it has one.</summary>
    public string? CallName { get; init; }

    /// <summary>The program a successful bpf_tail_call jumped to (execution continues at its slot 0), or null.</summary>
    public ExecutableProgram? TailCallTarget { get; init; }

    /// <summary>The XDP context of the run (its data, data_end and data_meta as they are after the instruction),
    /// or null for a run without one.</summary>
    public XdpContext? Context { get; init; }

    /// <summary>The run's memory regions as they are after the instruction (to tell where a register points).</summary>
    public RegionTable Regions { get; init; }

    /// <summary>True for a conditional jump that jumped.</summary>
    public bool BranchTaken =>
        Instruction.Class is OpClass.Jmp or OpClass.Jmp32
        && Instruction.JmpOp is not (JmpOp.Ja or JmpOp.Call or JmpOp.Exit)
        && NextPc != Pc + 1;
}
