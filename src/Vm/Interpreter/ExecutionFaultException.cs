namespace VethXdp.Vm.Interpreter;

/// <summary>A run stopped by a runtime check: the message names the instruction ("insn 7: out-of-bounds store ...").</summary>
public sealed class ExecutionFaultException : Exception
{
    /// <summary>Creates the fault at instruction <paramref name="pc"/>.</summary>
    public ExecutionFaultException(int pc, FaultKind kind, string reason)
        : this(pc, kind, reason, null)
    {
    }

    /// <summary>Creates the fault at instruction <paramref name="pc"/> caused by <paramref name="inner"/>.</summary>
    public ExecutionFaultException(int pc, FaultKind kind, string reason, Exception? inner)
        : base(pc >= 0 ? $"insn {pc}: {reason}" : reason, inner)
    {
        Pc = pc;
        Kind = kind;
        Reason = reason;
    }

    /// <summary>Creates a fault without an instruction index (a helper reports it; the VM adds the index).</summary>
    public ExecutionFaultException(FaultKind kind, string reason)
        : this(-1, kind, reason, null)
    {
    }

    /// <summary>Creates a fault without an instruction index.</summary>
    public ExecutionFaultException()
        : this(-1, FaultKind.InvalidInstruction, "execution fault", null)
    {
    }

    /// <summary>Creates a fault without an instruction index.</summary>
    public ExecutionFaultException(string message)
        : this(-1, FaultKind.InvalidInstruction, message, null)
    {
    }

    /// <summary>Creates a fault without an instruction index.</summary>
    public ExecutionFaultException(string message, Exception innerException)
        : this(-1, FaultKind.InvalidInstruction, message, innerException)
    {
    }

    /// <summary>The slot index of the faulting instruction, or -1 when unknown.</summary>
    public int Pc { get; }

    /// <summary>What went wrong.</summary>
    public FaultKind Kind { get; }

    /// <summary>The message without the "insn N: " prefix.</summary>
    public string Reason { get; }
}
