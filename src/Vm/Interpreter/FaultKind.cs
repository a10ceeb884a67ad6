namespace VethXdp.Vm.Interpreter;

/// <summary>Why a run stopped with an <see cref="ExecutionFaultException"/>.</summary>
public enum FaultKind
{
    /// <summary>A load or store outside every registered region, partly outside one, or a store to a read-only region.</summary>
    OutOfBounds,
    /// <summary>A context access the kernel would refuse (for xdp_md: anything but an aligned 4-byte load).</summary>
    InvalidContextAccess,
    /// <summary>More instructions executed than <see cref="InterpreterOptions.InstructionBudget"/> allows.</summary>
    BudgetExceeded,
    /// <summary>Execution ran past the last instruction.</summary>
    FellOffEnd,
    /// <summary>A call to a helper id the helper table does not have.</summary>
    UnknownHelper,
    /// <summary>A helper failed.</summary>
    HelperFailed,
    /// <summary>A ninth BPF-to-BPF call frame.</summary>
    CallStackExceeded,
    /// <summary>A valid instruction this VM does not implement yet (map loads, kfunc calls).</summary>
    NotSupported,
    /// <summary>An instruction the VM cannot execute (for example a write to r10 through an atomic fetch).</summary>
    InvalidInstruction,
}
