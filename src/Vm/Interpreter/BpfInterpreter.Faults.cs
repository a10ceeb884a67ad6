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

    [DoesNotReturn, StackTraceHidden]
    private static void ThrowInvalidOpcode(int pc, byte opcode) =>
        throw ExecutionFaults.InvalidOpcode(pc, opcode);
}
