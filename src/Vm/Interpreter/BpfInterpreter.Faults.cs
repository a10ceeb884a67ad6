using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Memory;

namespace VethXdp.Vm.Interpreter;

// Cold paths: every fault is raised here, so the main loop formats no strings.
public sealed partial class BpfInterpreter
{
    [DoesNotReturn, StackTraceHidden]
    private static void ThrowOutOfBounds(RegionTable regions, int pc, ulong address, int size, bool write) =>
        throw new ExecutionFaultException(pc, FaultKind.OutOfBounds, regions.DescribeViolation(address, size, write));

    [DoesNotReturn, StackTraceHidden]
    private static void ThrowContextAccess(int pc, long offset, int size) =>
        throw new ExecutionFaultException(
            pc,
            FaultKind.InvalidContextAccess,
            $"invalid bpf_context access off={offset} size={size} (xdp_md allows aligned 4-byte loads only)");

    [DoesNotReturn, StackTraceHidden]
    private static void ThrowContextSignExtend(int pc, long offset) =>
        throw new ExecutionFaultException(
            pc,
            FaultKind.InvalidContextAccess,
            $"invalid bpf_context access off={offset} size=4 (data, data_end and data_meta cannot be loaded sign-extended)");

    [DoesNotReturn, StackTraceHidden]
    private static void ThrowBudgetExceeded(int pc, long budget) =>
        throw new ExecutionFaultException(pc, FaultKind.BudgetExceeded, $"instruction budget of {budget} exceeded");

    [DoesNotReturn, StackTraceHidden]
    private static void ThrowFellOffEnd(ReadOnlySpan<Instruction> slots)
    {
        // Jumps are validated, so only the last instruction (or an lddw just before it) can fall through.
        int last = slots.Length - 1;
        if (slots.Length >= 2 && slots[^2].IsLdImm64)
        {
            last = slots.Length - 2;
        }

        throw new ExecutionFaultException(
            last,
            FaultKind.FellOffEnd,
            "execution fell off the end of the program (the last instruction is not exit or a jump)");
    }

    [DoesNotReturn, StackTraceHidden]
    private static void ThrowCallStackExceeded(int pc) =>
        throw new ExecutionFaultException(pc, FaultKind.CallStackExceeded, $"the call stack of {MaxCallFrames} frames is exceeded");

    [DoesNotReturn, StackTraceHidden]
    private static void ThrowPseudoLoad(int pc, int src)
    {
        string reason = (PseudoSrc)src switch
        {
            PseudoSrc.BtfId => "64-bit immediate load of a kernel variable (src=3) is not supported",
            _ => $"unresolved map reference (lddw src={src}): map references are resolved when a program is loaded with its object (VethXdp.Vm.Runtime.LoadedObject)",
        };
        throw new ExecutionFaultException(pc, FaultKind.NotSupported, reason);
    }

    [DoesNotReturn, StackTraceHidden]
    private static void ThrowUnknownKfunc(int pc, int id) =>
        throw new ExecutionFaultException(pc, FaultKind.NotSupported, $"kfunc call with id {id} is not supported");

    [DoesNotReturn, StackTraceHidden]
    private static void ThrowUnknownHelper(int pc, long id) =>
        throw new ExecutionFaultException(pc, FaultKind.UnknownHelper, $"unknown helper id {id}");

    [DoesNotReturn, StackTraceHidden]
    private static void ThrowFramePointerWrite(int pc) =>
        throw new ExecutionFaultException(pc, FaultKind.InvalidInstruction, "frame pointer is read only");

    [DoesNotReturn, StackTraceHidden]
    private static ulong ThrowInvalidAtomic(int pc, int op) =>
        throw new ExecutionFaultException(pc, FaultKind.InvalidInstruction, $"invalid atomic operation 0x{op:x}");

    [DoesNotReturn, StackTraceHidden]
    private static void ThrowInvalidOpcode(int pc, byte opcode) =>
        throw new ExecutionFaultException(pc, FaultKind.InvalidInstruction, $"unknown opcode 0x{opcode:x2}");
}
