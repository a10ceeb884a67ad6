namespace VethXdp.Vm.Interpreter;

/// <summary>One frame of the call stack: the program it runs (set while it runs, kept while it waits for a callee), and
/// what a BPF-to-BPF call from it saves for the return: the pc to return to and the callee-saved registers.</summary>
internal struct CallFrame
{
    /// <summary>The program this frame runs (a tail call in a callee replaces the callee's program only).</summary>
    public ExecutableProgram? Program;

    /// <summary>The slot after the call.</summary>
    public int ReturnPc;

    /// <summary>The region count before the callee's stack frame was registered.</summary>
    public int RegionCount;

    /// <summary>Callee-saved r6-r9 and the caller's frame pointer.</summary>
    public ulong R6, R7, R8, R9, R10;
}
