using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Memory;

namespace VethXdp.Vm.Interpreter;

// Cold paths: every fault is raised here, so the main loop formats no strings. The messages are ExecutionFaults',
// which the JIT raises too.
public sealed partial class BpfInterpreter
{
    [DoesNotReturn, StackTraceHidden]
    private static void ThrowOutOfBounds(RegionTable regions, int pc, ulong address, int size, bool write) =>
        throw ExecutionFaults.OutOfBounds(regions, pc, address, size, write);

    [DoesNotReturn, StackTraceHidden]
    private static void ThrowContextAccess(int pc, long offset, int size) =>
        throw ExecutionFaults.ContextAccess(pc, offset, size);

    [DoesNotReturn, StackTraceHidden]
    private static void ThrowContextSignExtend(int pc, long offset) =>
        throw ExecutionFaults.ContextSignExtend(pc, offset);

    [DoesNotReturn, StackTraceHidden]
    private static void ThrowBudgetExceeded(int pc, long budget) =>
        throw ExecutionFaults.BudgetExceeded(pc, budget);

    [DoesNotReturn, StackTraceHidden]
    private static void ThrowFellOffEnd(ReadOnlySpan<Instruction> slots) =>
        throw ExecutionFaults.FellOffEnd(slots);

    [DoesNotReturn, StackTraceHidden]
    private static void ThrowCallStackExceeded(int pc) =>
        throw ExecutionFaults.CallStackExceeded(pc);

    [DoesNotReturn, StackTraceHidden]
    private static void ThrowPseudoLoad(int pc, int src) =>
        throw ExecutionFaults.PseudoLoad(pc, src);

    [DoesNotReturn, StackTraceHidden]
    private static void ThrowUnknownKfunc(int pc, int id) =>
        throw ExecutionFaults.UnknownKfunc(pc, id);

    [DoesNotReturn, StackTraceHidden]
    private static void ThrowUnknownHelper(int pc, long id) =>
        throw ExecutionFaults.UnknownHelper(pc, id);

    [DoesNotReturn, StackTraceHidden]
    private static void ThrowFramePointerWrite(int pc) =>
        throw ExecutionFaults.FramePointerWrite(pc);

    [DoesNotReturn, StackTraceHidden]
    private static ulong ThrowInvalidAtomic(int pc, int op) =>
        throw ExecutionFaults.InvalidAtomic(pc, op);

    // A slot the decoder could not make runnable (the validator refuses it; only an unvalidated tail-call target has
    // one): a register above r10, or a 64-bit immediate load in the last slot.
    [DoesNotReturn, StackTraceHidden]
    private static void ThrowMalformed(ReadOnlySpan<Instruction> slots, int pc)
    {
        var insn = slots[pc];
        string reason = insn.DstReg > 10 ? $"invalid dst register {insn.DstReg}"
            : insn.SrcReg > 10 && !insn.IsLdImm64 ? $"invalid src register {insn.SrcReg}"
            : "64-bit immediate load is missing its second slot";
        throw new ExecutionFaultException(pc, FaultKind.InvalidInstruction, reason);
    }

    [DoesNotReturn, StackTraceHidden]
    private static void ThrowInvalidOpcode(int pc, byte opcode) =>
        throw ExecutionFaults.InvalidOpcode(pc, opcode);
}
