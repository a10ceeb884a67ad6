namespace VethXdp.Vm.Interpreter;

/// <summary>Receives every instruction a <see cref="BpfInterpreter"/> executes, when it is set as the interpreter's
/// <see cref="BpfInterpreter.Tracer"/>.</summary>
/// <remarks>
/// Steps are reported when an instruction completes, in the order they complete: the instructions of a callback that
/// a helper runs (bpf_loop, timers, for_each_map_elem) complete before the call instruction that started them, so
/// order steps by <see cref="TraceStep.Step"/> (the order they started in) to read them as they ran. An instruction
/// that faults is not reported; the fault itself reaches the caller as an <see cref="ExecutionFaultException"/>.
/// The spans a step holds are valid only during the call.
/// </remarks>
public interface IExecutionTracer
{
    /// <summary>A helper or kfunc is about to run (its arguments are <paramref name="step"/>'s r1-r5); callbacks it
    /// makes are reported next, then the call instruction's own <see cref="OnStep"/> with the result in r0.</summary>
    /// <param name="step">The call instruction, with <see cref="TraceStep.After"/> equal to its registers before.</param>
    void OnHelperEnter(in TraceStep step);

    /// <summary>An instruction completed.</summary>
    /// <param name="step">What it did: registers before and after, memory it read or wrote, the call it made.</param>
    void OnStep(in TraceStep step);
}
