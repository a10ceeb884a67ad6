using VethXdp.Vm.Isa;
using VethXdp.Vm.Memory;

namespace VethXdp.Vm.Interpreter;

/// <summary>Every runtime fault the engines raise, built in one place so that the interpreter and the JIT stop a run
/// with the same <see cref="FaultKind"/> and the same message ("insn 7: out-of-bounds store of 4 bytes at ...").</summary>
/// <remarks>Each method returns the exception for the caller to throw (<c>throw ExecutionFaults.X(...)</c>; JIT-compiled
/// code calls the method and then executes IL <c>throw</c>), and formats only on this cold path.</remarks>
public static class ExecutionFaults
{
    /// <summary>A load or store that no region allows; the message names the nearest region.</summary>
    public static ExecutionFaultException OutOfBounds(RegionTable regions, int pc, ulong address, int size, bool write)
    {
        ArgumentNullException.ThrowIfNull(regions);
        return new(pc, FaultKind.OutOfBounds, regions.DescribeViolation(address, size, write));
    }

    /// <summary>A context access xdp_md does not allow (anything but an aligned 4-byte load of a field).</summary>
    public static ExecutionFaultException ContextAccess(int pc, long offset, int size) => new(
        pc,
        FaultKind.InvalidContextAccess,
        $"invalid bpf_context access off={offset} size={size} (xdp_md allows aligned 4-byte loads only)");

    /// <summary>A sign-extending load of data, data_end or data_meta.</summary>
    public static ExecutionFaultException ContextSignExtend(int pc, long offset) => new(
        pc,
        FaultKind.InvalidContextAccess,
        $"invalid bpf_context access off={offset} size=4 (data, data_end and data_meta cannot be loaded sign-extended)");

    /// <summary>The instruction at <paramref name="pc"/> would be one more than <paramref name="budget"/>.</summary>
    public static ExecutionFaultException BudgetExceeded(int pc, long budget) =>
        new(pc, FaultKind.BudgetExceeded, $"instruction budget of {budget} exceeded");

    /// <summary>Execution ran past the last slot; the fault names the last instruction (an lddw just before the end
    /// counts as the last one).</summary>
    public static ExecutionFaultException FellOffEnd(ReadOnlySpan<Instruction> slots)
    {
        // Jumps are validated, so only the last instruction (or an lddw just before it) can fall through.
        int last = slots.Length - 1;
        if (slots.Length >= 2 && slots[^2].IsLdImm64)
        {
            last = slots.Length - 2;
        }

        return new(last, FaultKind.FellOffEnd, "execution fell off the end of the program (the last instruction is not exit or a jump)");
    }

    /// <summary>A BPF-to-BPF call at <paramref name="pc"/> would open a ninth frame.</summary>
    public static ExecutionFaultException CallStackExceeded(int pc) =>
        new(pc, FaultKind.CallStackExceeded, $"the call stack of {BpfInterpreter.MaxCallFrames} frames is exceeded");

    /// <summary>A callback a helper asked for would open a ninth frame (the helper's call adds the instruction index).</summary>
    public static ExecutionFaultException CallbackStackExceeded() =>
        new(FaultKind.CallStackExceeded, $"the call stack of {BpfInterpreter.MaxCallFrames} frames is exceeded by a callback");

    /// <summary>A helper asked to call back an address that is no function of a live program.</summary>
    public static ExecutionFaultException NotAFunction(ulong function, string programName) =>
        new(FaultKind.HelperFailed, $"0x{function:x} is not the address of a function of {programName}");

    /// <summary>A 64-bit immediate load whose pseudo source the engines cannot run (an unresolved map, a kernel variable).</summary>
    public static ExecutionFaultException PseudoLoad(int pc, int src)
    {
        string reason = (PseudoSrc)src switch
        {
            PseudoSrc.BtfId => "64-bit immediate load of a kernel variable (src=3) is not supported",
            _ => $"unresolved map reference (lddw src={src}): map references are resolved when a program is loaded with its object (VethXdp.Vm.Runtime.LoadedObject)",
        };
        return new(pc, FaultKind.NotSupported, reason);
    }

    /// <summary>A kfunc call whose id the helper table does not have.</summary>
    public static ExecutionFaultException UnknownKfunc(int pc, int id) =>
        new(pc, FaultKind.NotSupported, $"kfunc call with id {id} is not supported");

    /// <summary>A helper call (or callx) whose id the helper table does not have.</summary>
    public static ExecutionFaultException UnknownHelper(int pc, long id) =>
        new(pc, FaultKind.UnknownHelper, $"unknown helper id {id}");

    /// <summary>An atomic fetch whose result would go to r10.</summary>
    public static ExecutionFaultException FramePointerWrite(int pc) =>
        new(pc, FaultKind.InvalidInstruction, "frame pointer is read only");

    /// <summary>An atomic operation code the ISA does not have.</summary>
    public static ExecutionFaultException InvalidAtomic(int pc, int op) =>
        new(pc, FaultKind.InvalidInstruction, $"invalid atomic operation 0x{op:x}");

    /// <summary>An opcode the ISA does not have (or the second slot of a 64-bit load, reached by a callback).</summary>
    public static ExecutionFaultException InvalidOpcode(int pc, byte opcode) =>
        new(pc, FaultKind.InvalidInstruction, $"unknown opcode 0x{opcode:x2}");

    /// <summary>bpf_tail_call left something that is not a program an engine runs.</summary>
    public static ExecutionFaultException TailCallTarget(int pc, object? target) =>
        new(pc, FaultKind.HelperFailed, $"tail call target is not a program this engine can run ({target?.GetType().Name})");

    /// <summary>A helper or kfunc threw: a fault without an instruction index gets <paramref name="pc"/>; any other
    /// exception becomes a <see cref="FaultKind.HelperFailed"/> fault naming the helper.</summary>
    /// <param name="pc">The call instruction.</param>
    /// <param name="kfunc">True for a kfunc call (src 2).</param>
    /// <param name="id">The helper or kfunc id.</param>
    /// <param name="helpers">The table, for the name.</param>
    /// <param name="error">What the helper threw.</param>
    /// <returns>The fault to throw, or null when <paramref name="error"/> already names its instruction.</returns>
    public static ExecutionFaultException? FromHelper(int pc, bool kfunc, long id, Helpers.HelperTable helpers, Exception error)
    {
        ArgumentNullException.ThrowIfNull(helpers);
        ArgumentNullException.ThrowIfNull(error);
        if (error is ExecutionFaultException fault)
        {
            return fault.Pc < 0 ? new ExecutionFaultException(pc, fault.Kind, fault.Reason, fault) : null;
        }

        string what = kfunc
            ? $"kfunc {helpers.GetKfuncName((int)id)}"
            : $"helper {(id >= 0 && id <= int.MaxValue ? helpers.GetName((int)id) : null) ?? "#" + id}";
        return new ExecutionFaultException(pc, FaultKind.HelperFailed, $"{what} failed: {error.Message}", error);
    }
}
