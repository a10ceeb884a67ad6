namespace VethXdp.Reports.Trace;

/// <summary>The call an instruction made, or the return it made.</summary>
/// <param name="Kind">"helper", "kfunc", "call" (BPF-to-BPF), "return" (to the caller's frame), "exit" (the end of the
/// run, or of a callback), "tail_call" (a bpf_tail_call that jumped).</param>
/// <param name="Id">The helper or kfunc id (0 for the other kinds).</param>
/// <param name="Name">The helper's, kfunc's or callee's name.</param>
/// <param name="Args">The arguments (r1 up to the helper's last argument; all five when its arity is unknown).</param>
/// <param name="ArgText">The arguments as text: where pointers point, map names, else hex.</param>
/// <param name="Result">r0 after the call (or at the exit); null for a BPF-to-BPF call.</param>
/// <param name="Target">The callee's first instruction (call), the instruction returned to (return), or null.</param>
/// <param name="TailCallTarget">The program a tail call jumped to.</param>
public sealed record TraceCall(
    string Kind,
    long Id,
    string? Name,
    IReadOnlyList<ulong> Args,
    IReadOnlyList<string> ArgText,
    ulong? Result,
    int? Target,
    string? TailCallTarget);
