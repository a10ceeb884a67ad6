using System.Reflection;
using System.Reflection.Emit;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;

namespace VethXdp.Jit.Emitters;

/// <summary>Everything the emitters share while one program is compiled: the IL writer, the registers as IL locals,
/// a label per target slot, the handlers every method has, and the cold stubs emitted after the code.</summary>
/// <remarks>
/// The method's arguments: 0 = the <see cref="JitProgram"/> (constants: helper delegates, slots), 1 = the
/// <see cref="JitState"/>, 2 = the entry index, 3 = the depth of the activation's first frame. The evaluation stack is
/// empty between eBPF instructions, so any slot can be a branch target.
/// </remarks>
internal sealed class EmitContext
{
    private readonly List<(Label Label, Action Emit)> _cold = [];
    private readonly Dictionary<HelperFunc, int> _delegateIndex = [];

    public EmitContext(IlWriter il, Instruction[] slots, ExecutableProgram program, HelperTable helpers, bool checkedMode, FlowInfo flow)
    {
        Il = il;
        Slots = slots;
        Program = program;
        Helpers = helpers;
        Checked = checkedMode;
        Flow = flow;
        Regs = new LocalBuilder[11];
        for (int r = 0; r < Regs.Length; r++)
        {
            Regs[r] = il.DeclareLocal(typeof(ulong), "r" + r);
        }

        Left = il.DeclareLocal(typeof(long), "left");
        Depth = il.DeclareLocal(typeof(int), "depth");
        Env = il.DeclareLocal(typeof(RuntimeEnv), "env");
        TailPc = il.DeclareLocal(typeof(int), "tail_pc");
        Tmp = il.DeclareLocal(typeof(ulong), "tmp");
        if (checkedMode)
        {
            Addr = il.DeclareLocal(typeof(ulong), "addr");
            Grouped = new bool[slots.Length];
        }
        Labels = new Label[slots.Length + 1];
        for (int pc = 0; pc <= slots.Length; pc++)
        {
            if (flow.IsLabel[pc])
            {
                Labels[pc] = il.DefineLabel(pc == slots.Length ? "END" : "PC_" + pc);
            }
        }

        PopHandler = il.DefineLabel("POP_FRAME");
        TailHandler = il.DefineLabel("TAIL_CALL");
        LdAbsFail = il.DefineLabel("LD_ABS_FAIL");
    }

    public IlWriter Il { get; }

    /// <summary>Stack bytes to clear when the function at each slot gets a frame (<see cref="JitState.EnterFrame"/>).</summary>
    public int[] FrameClearBySlot { get; set; } = [];

    /// <summary>Stack bytes to clear when the function that starts at <paramref name="pc"/> gets a frame.</summary>
    public int FrameClear(int pc) => (uint)pc < (uint)FrameClearBySlot.Length ? FrameClearBySlot[pc] : BpfInterpreter.StackSize;

    public Instruction[] Slots { get; }

    /// <summary>Set when the code calls a helper that may need the run's regions, Env.Xdp, callbacks or tail calls
    /// (any but VerifiedHelpers.IsRunStateFree).</summary>
    public bool NeedsRunState { get; set; }

    /// <summary>Set when the code calls bpf_xdp_load_bytes / store_bytes in their verified forms: the run needs
    /// Env.Xdp (the frame), nothing else of its own state (<see cref="VerifiedHelpers.IsFrameOnly"/>).</summary>
    public bool NeedsXdpFrame { get; set; }

    /// <summary>Unchecked mode: per 4-byte load, whether its base register holds the context pointer
    /// (<see cref="CtxPointers"/>); null in checked mode.</summary>
    public int[]? CtxState { get; set; }

    public ExecutableProgram Program { get; }

    public HelperTable Helpers { get; }

    /// <summary>Checked mode: every access outside the current stack frame goes through a region check.</summary>
    public bool Checked { get; }

    public FlowInfo Flow { get; }

    /// <summary>r0-r10 as IL locals.</summary>
    public LocalBuilder[] Regs { get; }

    /// <summary>Instructions the run may still execute: the budget minus the count so far. One local counted down
    /// (a block subtracts its count and faults below zero) instead of a count and a budget compared: one register
    /// fewer, and the check is a subtract and a branch.</summary>
    public LocalBuilder Left { get; }

    public LocalBuilder Depth { get; }

    public LocalBuilder Env { get; }

    public LocalBuilder TailPc { get; }

    public LocalBuilder Tmp { get; }

    /// <summary>Checked mode: the accesses a block's group check covers (<see cref="AccessGroups"/>): in the block's hot
    /// copy they are plain loads and stores.</summary>
    public bool[] Grouped { get; } = [];

    /// <summary>Set while a block's per-segment copy is emitted (every access checked on its own there).</summary>
    public bool InSlowCopy { get; set; }

    /// <summary>Whether the access at <paramref name="pc"/> is emitted without its own check.</summary>
    /// <summary>The label a conditional jump at <paramref name="pc"/> branches to for <paramref name="target"/>: the
    /// target's own, or, for a jump out of the middle of a block's hot copy, a stub that first gives back the count
    /// of the block's instructions the jump skips (<see cref="FlowInfo.ExitRemaining"/>).</summary>
    public Label BranchTarget(int pc, int target)
    {
        int skipped = Flow.ExitRemaining[pc];
        if (InSlowCopy || skipped == 0)
        {
            return Labels[target];
        }

        return Cold($"PC_{pc}_EXIT", () =>
        {
            Il.Emit(OpCodes.Ldloc, Left);
            LdI8(skipped);
            Il.Emit(OpCodes.Add);
            Il.Emit(OpCodes.Stloc, Left);
            Il.Emit(OpCodes.Br, Labels[target]);
        });
    }

    public bool IsGrouped(int pc) => !InSlowCopy && (uint)pc < (uint)Grouped.Length && Grouped[pc];

    /// <summary>Checked mode: the address of the access being checked.</summary>
    public LocalBuilder? Addr { get; }

    /// <summary>Checked mode: pushes the packet region's first byte (JitState.PacketLo, <see cref="ulong.MaxValue"/>
    /// when there is none). Read from the state at each check rather than kept in a local: a field load is as cheap as
    /// the stack slot the local was spilled to in any loop, and two fewer locals leave the registers to the
    /// program's.</summary>
    public void LdPktLo()
    {
        LdState();
        Il.Emit(OpCodes.Ldfld, JitMethods.PacketLo);
    }

    /// <summary>Checked mode: pushes one past the packet region's last byte (JitState.PacketHi, at least 8, so
    /// <c>pkt_hi - size</c> never wraps).</summary>
    public void LdPktHi()
    {
        LdState();
        Il.Emit(OpCodes.Ldfld, JitMethods.PacketHi);
    }

    /// <summary>The label of every slot <see cref="FlowInfo.IsLabel"/> marks.</summary>
    public Label[] Labels { get; }

    /// <summary>The return sites of BPF-to-BPF calls, by site index (what a frame's ReturnSite selects).</summary>
    public List<Label> ReturnSites { get; } = [];

    /// <summary>Pops a frame and returns to its call site.</summary>
    public Label PopHandler { get; }

    /// <summary>Runs the pending tail call (tail_pc = the call instruction).</summary>
    public Label TailHandler { get; }

    /// <summary>Ends the activation with r0 = 0 (an out-of-bounds LD_ABS/LD_IND).</summary>
    public Label LdAbsFail { get; }

    /// <summary>The helpers that are not static methods, called through their delegates.</summary>
    public List<HelperFunc> Delegates { get; } = [];

    public void LdReg(int r) => Il.Emit(OpCodes.Ldloc, Regs[r]);

    public void StReg(int r) => Il.Emit(OpCodes.Stloc, Regs[r]);

    public void LdCode() => Il.Emit(OpCodes.Ldarg_0);

    public void LdState() => Il.Emit(OpCodes.Ldarg_1);

    /// <summary>Checked mode: copies the packet region's bounds from the region table into the state
    /// (<see cref="LdPktLo"/>, <see cref="LdPktHi"/>). Only a helper call (bpf_xdp_adjust_head/meta/tail, or one that
    /// runs callbacks) changes the table's packet entry during an activation, so the prologue and every return from a
    /// helper or tail call refresh them; between refreshes they equal the table's entry.</summary>
    public void ReloadPacketBounds()
    {
        if (!Checked)
        {
            return;
        }

        LdState();
        Call(JitMethods.RefreshPacketBounds);
    }

    /// <summary>Access sites given a region hint so far (the length of <see cref="JitProgram.AccessHints"/>).</summary>
    public int HintCount { get; private set; }

    /// <summary>Pushes <c>ref code.AccessHints[n]</c> for a new checked access site.</summary>
    public void LdNewHint()
    {
        Il.Emit(OpCodes.Ldarg_0);
        Il.Emit(OpCodes.Ldfld, JitMethods.AccessHints);
        LdI4(HintCount++);
        Il.Emit(OpCodes.Ldelema, typeof(int));
    }

    public void LdI4(int value)
    {
        if (value is >= -128 and <= 127)
        {
            Il.Emit(OpCodes.Ldc_I4_S, (byte)(sbyte)value);
        }
        else
        {
            Il.Emit(OpCodes.Ldc_I4, value);
        }
    }

    public void LdI8(long value) => Il.Emit(OpCodes.Ldc_I8, value);

    public void Call(MethodInfo method) => Il.Emit(OpCodes.Call, method);

    /// <summary>Pushes <c>reg + offset</c> (an address).</summary>
    public void LdAddress(int reg, short offset)
    {
        LdReg(reg);
        if (offset != 0)
        {
            LdI8(offset);
            Il.Emit(OpCodes.Add);
        }
    }

    /// <summary>A stub emitted after the method's code (cold: faults, rare paths); returns its label.</summary>
    public Label Cold(string name, Action emit)
    {
        var label = Il.DefineLabel(name);
        _cold.Add((label, emit));
        return label;
    }

    /// <summary>Emits every stub registered with <see cref="Cold"/> (stubs may register more).</summary>
    public void EmitColdStubs()
    {
        for (int i = 0; i < _cold.Count; i++)
        {
            Il.MarkLabel(_cold[i].Label);
            _cold[i].Emit();
        }
    }

    /// <summary>Stores the local instruction count into the state (before a call that may run callbacks, before a return).</summary>
    public void SyncExecuted()
    {
        LdState();
        LdState();
        Il.Emit(OpCodes.Ldfld, JitMethods.Budget);
        Il.Emit(OpCodes.Ldloc, Left);
        Il.Emit(OpCodes.Sub);
        Il.Emit(OpCodes.Stfld, JitMethods.Executed);
    }

    /// <summary>Pushes the instruction count so far (the budget minus <see cref="Left"/>).</summary>
    public void LdExecuted()
    {
        LdState();
        Il.Emit(OpCodes.Ldfld, JitMethods.Budget);
        Il.Emit(OpCodes.Ldloc, Left);
        Il.Emit(OpCodes.Sub);
    }

    /// <summary>left -= <paramref name="count"/>; leaves <c>left</c> and 0 on the stack for a <c>blt</c> to the fault.</summary>
    public void CountDown(long count)
    {
        Il.Emit(OpCodes.Ldloc, Left);
        LdI8(count);
        Il.Emit(OpCodes.Sub);
        Il.Emit(OpCodes.Stloc, Left);
        Il.Emit(OpCodes.Ldloc, Left);
        LdI8(0);
    }

    /// <summary>Reloads the instruction count after a call (callbacks counted theirs in the state).</summary>
    public void ReloadExecuted()
    {
        LdState();
        Il.Emit(OpCodes.Ldfld, JitMethods.Budget);
        LdState();
        Il.Emit(OpCodes.Ldfld, JitMethods.Executed);
        Il.Emit(OpCodes.Sub);
        Il.Emit(OpCodes.Stloc, Left);
    }

    /// <summary>The index of a helper delegate in <see cref="JitProgram.HelperDelegates"/>.</summary>
    public int DelegateIndex(HelperFunc f)
    {
        if (!_delegateIndex.TryGetValue(f, out int i))
        {
            i = Delegates.Count;
            Delegates.Add(f);
            _delegateIndex[f] = i;
        }

        return i;
    }

    /// <summary>Emits a fault raised by a factory already called with its arguments on the stack: <c>throw</c>.</summary>
    public void Throw(MethodInfo factory)
    {
        Call(factory);
        Il.Emit(OpCodes.Throw);
    }

    /// <summary>Returns from the activation when the current frame is its first: r0; else pops a frame.</summary>
    public void EmitExit()
    {
        Il.Emit(OpCodes.Ldloc, Depth);
        Il.Emit(OpCodes.Ldarg_3);
        Il.Emit(OpCodes.Bne_Un, PopHandler);
        SyncExecuted();
        LdReg(0);
        Il.Emit(OpCodes.Ret);
    }
}
