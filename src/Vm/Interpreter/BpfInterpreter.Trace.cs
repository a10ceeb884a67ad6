using System.Runtime.CompilerServices;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Memory;
using VethXdp.Vm.Xdp;

namespace VethXdp.Vm.Interpreter;

public sealed unsafe partial class BpfInterpreter
{
    // How the main loop is specialised: the JIT compiles Execute<TraceOff>, Execute<TraceOn> and Execute<Precise>
    // separately and folds `TMode.Enabled` and `TMode.PerInstruction` to constants in each, so the untraced loop has
    // no tracing code at all (not even a test) and a run chooses once, on entry, which one to run.
    private interface ITraceMode
    {
        // Every instruction is reported to the tracer.
        static abstract bool Enabled { get; }

        // The budget is counted one instruction at a time (else per straight run: see Execute).
        static abstract bool PerInstruction { get; }
    }

    private readonly struct TraceOff : ITraceMode
    {
        public static bool Enabled => false;

        public static bool PerInstruction => false;
    }

    private readonly struct TraceOn : ITraceMode
    {
        public static bool Enabled => true;

        public static bool PerInstruction => true;
    }

    // Untraced, counting one by one: the end of a run whose budget is about to run out.
    private readonly struct Precise : ITraceMode
    {
        public static bool Enabled => false;

        public static bool PerInstruction => true;
    }

    private const int AccessNone = 0, AccessLoad = 1, AccessStore = 2, AccessAtomic = 3;

    /// <summary>Receives every executed instruction when set; null (the default) runs the untraced loop, which costs
    /// nothing. Takes effect at the next run or callback.</summary>
    public IExecutionTracer? Tracer { get; set; }

    // One pending step per loop invocation, indexed by the frame the loop started in (a callback's loop starts one
    // frame above the frame that called the helper, so nested loops never share an entry). Allocated when first traced.
    private PendingStep[]? _tracePending;

    // Runs `prog` from `pc` in frame `baseDepth` with the loop the tracer asks for.
    private ulong ExecuteEntry(ExecutableProgram prog, int pc, ref RegisterFile regs, int baseDepth)
    {
        if (Tracer is null)
        {
            return Execute<TraceOff>(prog, pc, in regs, baseDepth, baseDepth, _executed);
        }

        EnsureRegions();
        _tracePending ??= new PendingStep[MaxCallFrames];
        _tracePending[baseDepth].Active = false;
        return Execute<TraceOn>(prog, pc, in regs, baseDepth, baseDepth, _executed);
    }

    // The instruction the traced loop has started and not yet reported: it is reported at the top of the next
    // iteration (whatever path the switch took to get there) or before the loop returns. A fault leaves it unreported.
    private struct PendingStep
    {
        public bool Active;
        public bool TailCall;
        public int Pc;
        public int Depth;
        public int AccessKind;
        public int AccessSize;
        public int Region;
        public long Step;
        public ulong Address;
        public ulong OldValue;
        public Instruction Insn;
        public ExecutableProgram? Program;
        public RegisterFile Before;
    }

    [InlineArray(2)]
    private struct AccessPair
    {
        private MemoryAccess _first;
    }

    // Records what the instruction at `pc` is about to do: its registers and the memory it will touch (found
    // without faulting; the access itself faults in the loop if it must). A helper call is announced here.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void TraceBegin(int baseDepth, ExecutableProgram prog, int pc, Instruction insn, int depth, long step, in RegisterFile regs)
    {
        ref PendingStep p = ref _tracePending![baseDepth];
        p.Active = true;
        p.TailCall = false;
        p.Pc = pc;
        p.Depth = depth;
        p.Step = step;
        p.Insn = insn;
        p.Program = prog;
        p.Before = regs;
        p.AccessKind = AccessNone;
        p.Region = -1;
        var cls = insn.Class;
        if (cls == OpClass.Ldx && insn.Mode is MemMode.Mem or MemMode.MemSx)
        {
            p.AccessKind = AccessLoad;
            p.Address = regs[insn.SrcReg] + (ulong)(long)insn.Offset;
        }
        else if ((cls == OpClass.St && insn.Mode == MemMode.Mem) || (cls == OpClass.Stx && insn.Mode is MemMode.Mem or MemMode.Atomic))
        {
            p.AccessKind = insn.Mode == MemMode.Atomic ? AccessAtomic : AccessStore;
            p.Address = regs[insn.DstReg] + (ulong)(long)insn.Offset;
        }

        if (p.AccessKind != AccessNone)
        {
            p.AccessSize = insn.AccessBytes;
            p.Region = Env.Regions.Find(p.Address, p.AccessSize, write: p.AccessKind != AccessLoad);
            if (p.AccessKind == AccessAtomic && p.Region >= 0)
            {
                p.OldValue = ReadSized(p.Address, p.AccessSize);
            }
        }

        if (insn.Opcode is Op.Call or Op.CallX && (insn.Opcode == Op.CallX || insn.SrcReg != (int)CallKind.Local))
        {
            ReadOnlySpan<ulong> before = p.Before;
            var announce = Describe(ref p, before, before, default, pc + 1, prog, depth);
            Tracer?.OnHelperEnter(in announce);
        }
    }

    // A bpf_tail_call of the pending instruction jumped.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void TraceTailCall(int baseDepth) => _tracePending![baseDepth].TailCall = true;

    // Reports the pending instruction, if any: `regs` are the registers after it, `nextPc` where its frame goes next,
    // `current` the program and `depth` the frame after it.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void TraceEnd(int baseDepth, in RegisterFile regs, int nextPc, ExecutableProgram current, int depth)
    {
        ref PendingStep p = ref _tracePending![baseDepth];
        if (!p.Active)
        {
            return;
        }

        p.Active = false;
        AccessPair pair = default;
        int count = 0;
        if (p.Region >= 0)
        {
            var region = Env.Regions[p.Region];
            var insn = p.Insn;
            switch (p.AccessKind)
            {
                case AccessLoad:
                {
                    ulong value = regs[insn.DstReg];
                    if (insn.Mode == MemMode.MemSx && p.AccessSize < 8)
                    {
                        value &= (1UL << (p.AccessSize * 8)) - 1;
                    }

                    pair[count++] = new MemoryAccess(MemoryAccessKind.Load, p.Address, p.AccessSize, value, region);
                    break;
                }

                case AccessStore:
                    pair[count++] = new MemoryAccess(MemoryAccessKind.Store, p.Address, p.AccessSize, ReadSized(p.Address, p.AccessSize), region);
                    break;
                case AccessAtomic:
                {
                    pair[count++] = new MemoryAccess(MemoryAccessKind.Load, p.Address, p.AccessSize, p.OldValue, region);
                    ulong r0 = p.AccessSize == 4 ? (uint)p.Before[0] : p.Before[0];
                    if (insn.Imm != (int)AtomicOp.CmpXchg || p.OldValue == r0)
                    {
                        pair[count++] = new MemoryAccess(MemoryAccessKind.Store, p.Address, p.AccessSize, ReadSized(p.Address, p.AccessSize), region);
                    }

                    break;
                }
            }
        }

        ReadOnlySpan<ulong> before = p.Before;
        ReadOnlySpan<ulong> after = regs;
        ReadOnlySpan<MemoryAccess> accesses = pair;
        var step = Describe(ref p, before, after, accesses[..count], nextPc, current, depth);
        Tracer?.OnStep(in step);
    }

    // The step as the tracer sees it; an exit returns to the caller's frame unless it ended the frame the loop
    // started in (then the depth after it is the depth it ran in).
    private TraceStep Describe(ref PendingStep p, ReadOnlySpan<ulong> before, ReadOnlySpan<ulong> after, ReadOnlySpan<MemoryAccess> accesses, int nextPc, ExecutableProgram current, int depthAfter)
    {
        var insn = p.Insn;
        long callId = 0;
        string? name = null;
        var kind = TraceCallKind.None;
        if (insn.Opcode == Op.CallX)
        {
            kind = TraceCallKind.Helper;
            callId = (long)before[insn.DstReg];
            name = callId is >= 0 and <= int.MaxValue ? _helpers.GetName((int)callId) : null;
        }
        else if (insn.Opcode == Op.Exit)
        {
            kind = depthAfter < p.Depth ? TraceCallKind.Return : TraceCallKind.Exit;
        }
        else if (insn.Opcode == Op.Call)
        {
            switch ((CallKind)insn.SrcReg)
            {
                case CallKind.Helper:
                    kind = TraceCallKind.Helper;
                    callId = insn.Imm;
                    name = _helpers.GetName(insn.Imm);
                    break;
                case CallKind.Kfunc:
                    kind = TraceCallKind.Kfunc;
                    callId = insn.Imm;
                    name = _helpers.GetKfuncName(insn.Imm);
                    break;
                default:
                    kind = TraceCallKind.Local;
                    callId = p.Pc + 1 + insn.Imm;
                    break;
            }
        }

        return new TraceStep
        {
            Step = p.Step,
            Program = p.Program!,
            Pc = p.Pc,
            Instruction = insn,
            Depth = p.Depth,
            NextPc = nextPc,
            Before = before,
            After = after,
            Accesses = accesses,
            Call = kind,
            CallId = callId,
            CallName = name,
            TailCallTarget = p.TailCall ? current : null,
            Context = _contextRegion != NoContext ? _ctx : null,
            Regions = Env.Regions,
        };
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ReadSized(ulong address, int size) => size switch
    {
        1 => *(byte*)address,
        2 => Unsafe.ReadUnaligned<ushort>((void*)address),
        4 => Unsafe.ReadUnaligned<uint>((void*)address),
        _ => Unsafe.ReadUnaligned<ulong>((void*)address),
    };
}
