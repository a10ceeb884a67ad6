namespace VethXdp.Vm.Interpreter;

/// <summary>What a traced instruction did to the flow of calls.</summary>
public enum TraceCallKind : byte
{
    /// <summary>Nothing: an ALU, memory or jump instruction.</summary>
    None,
    /// <summary>A helper call (call imm with src 0, or callx); <see cref="TraceStep.TailCallTarget"/> is set when it
    /// was a bpf_tail_call that jumped.</summary>
    Helper,
    /// <summary>A kfunc call (call with src 2).</summary>
    Kfunc,
    /// <summary>A BPF-to-BPF call: a new frame, execution continues at the callee's first instruction.</summary>
    Local,
    /// <summary>An exit that returns from a BPF-to-BPF call to its caller's frame.</summary>
    Return,
    /// <summary>The exit that ends the run, or the callback a helper called.</summary>
    Exit,
}
