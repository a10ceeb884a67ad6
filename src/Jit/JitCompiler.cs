using System.Reflection.Emit;
using VethXdp.Jit.Emitters;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Programs;

namespace VethXdp.Jit;

/// <summary>Compiles eBPF programs to IL: one collectible <see cref="DynamicMethod"/> per program, its registers as IL
/// locals, a label per jump target, helpers called through the methods the interpreter calls.</summary>
/// <remarks>
/// <para>Pipeline (STYLE.md C6): validate; a pre-pass finds the labels, the entries and the budget segments
/// (<see cref="FlowInfo"/>); the pc loop dispatches each instruction on its class to one emitter
/// (<see cref="AluEmitter"/>, <see cref="JmpEmitter"/>, <see cref="LoadStoreEmitter"/>, <see cref="CallEmitter"/>,
/// <see cref="LdImm64Emitter"/>); then the shared handlers (frame pop, tail call, LD_ABS failure) and the cold fault
/// stubs follow the code.</para>
/// <para>The instruction budget is counted per segment (a straight run in which only the last instruction can fault
/// or be observed), so a run executes the same number of instructions as in the interpreter and the budget fault names
/// the same instruction.</para>
/// <para>Checked mode accepts any program; unchecked mode only a <see cref="VerifiedProgram"/>.</para>
/// </remarks>
public static class JitCompiler
{
    /// <summary>Compiles <paramref name="program"/> in checked mode: every load and store outside the current stack
    /// frame is checked against the run's regions, with the interpreter's semantics and fault messages.</summary>
    /// <param name="program">The prepared program.</param>
    /// <param name="helpers">The helpers its calls are bound to; <see cref="HelperTable.CreateDefault"/> when null.</param>
    /// <param name="options">Options; <see cref="JitOptions.Default"/> when null.</param>
    /// <exception cref="BpfFormatException">The program is malformed.</exception>
    public static JitProgram Compile(ExecutableProgram program, HelperTable? helpers = null, JitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        return CompileCore(program, helpers ?? HelperTable.CreateDefault(), JitMode.Checked, options ?? JitOptions.Default, -1);
    }

    /// <summary>Compiles <paramref name="program"/> in checked mode.</summary>
    /// <exception cref="BpfFormatException">The program is malformed.</exception>
    public static JitProgram Compile(BpfProgram program, HelperTable? helpers = null, JitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        return Compile(new ExecutableProgram(program), helpers, options);
    }

    /// <summary>Compiles a verified program in unchecked mode: loads and stores go straight to memory, as the kernel's
    /// JIT does for a program its verifier accepted.</summary>
    /// <param name="program">The verifier's token for the program.</param>
    /// <param name="helpers">The helpers its calls are bound to; <see cref="HelperTable.CreateDefault"/> when null.</param>
    /// <param name="options">Options; <see cref="JitOptions.Default"/> when null.</param>
    /// <exception cref="BpfFormatException">The program is malformed.</exception>
    public static JitProgram Compile(VerifiedProgram program, HelperTable? helpers = null, JitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        return CompileCore(program.Program, helpers ?? HelperTable.CreateDefault(), JitMode.Unchecked, options ?? JitOptions.Default, -1, program);
    }

    /// <summary>The IL listing of the verified program compiled unchecked (what <c>jit</c> runs).</summary>
    /// <exception cref="BpfFormatException">The program is malformed.</exception>
    public static string DumpIl(VerifiedProgram program, HelperTable? helpers = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        using var writer = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        CompileCore(program.Program, helpers ?? HelperTable.CreateDefault(), JitMode.Unchecked, new JitOptions { DumpIl = writer }, -1, program);
        return writer.ToString();
    }

    /// <summary>The IL listing of <paramref name="program"/> compiled in <paramref name="mode"/>, each eBPF instruction
    /// before its IL (nothing runs, so any program can be listed in either mode).</summary>
    /// <exception cref="BpfFormatException">The program is malformed.</exception>
    public static string DumpIl(BpfProgram program, JitMode mode = JitMode.Checked, HelperTable? helpers = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        using var writer = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        CompileCore(new ExecutableProgram(program), helpers ?? HelperTable.CreateDefault(), mode, new JitOptions { DumpIl = writer }, -1);
        return writer.ToString();
    }

    /// <summary>Unchecked compilation without a token: for this assembly's tests only (the differential tests of the
    /// unchecked emitters on programs that are safe by construction).</summary>
    internal static JitProgram CompileUnverified(ExecutableProgram program, HelperTable? helpers = null, JitOptions? options = null) =>
        CompileCore(program, helpers ?? HelperTable.CreateDefault(), JitMode.Unchecked, options ?? JitOptions.Default, -1);

    internal static JitProgram CompileCore(ExecutableProgram executable, HelperTable helpers, JitMode mode, JitOptions options, int extraEntry,
        VerifiedProgram? token = null)
    {
        var slots = executable.Slots.ToArray();
        if (InstructionValidator.Validate(slots) is { } error)
        {
            throw new BpfFormatException(error.Pc, error.Reason);
        }

        bool isChecked = mode == JitMode.Checked;
        var flow = FlowInfo.Analyze(slots, isChecked, extraEntry);
        var method = new DynamicMethod(
            "bpf_" + executable.Name,
            typeof(ulong),
            [typeof(JitProgram), typeof(JitState), typeof(int), typeof(int)],
            typeof(JitProgram).Module,
            skipVisibility: true);
        var il = new IlWriter(method.GetILGenerator(64 + (slots.Length * 24)), listing: options.DumpIl is not null);
        il.Comment($".method uint64 bpf_{executable.Name}(JitProgram code, JitState state, int32 entry, int32 baseDepth)  // {(isChecked ? "jit-checked" : "jit")}, {slots.Length} slots");
        il.Comment("Generated by VethXdp.Jit's own IL listing (no external tool lists the IL of this JIT).");
        var cx = new EmitContext(il, slots, executable, helpers, isChecked, flow);
        cx.FrameClearBySlot = FrameClearSizes(slots, mode, token, flow.Entries);
        cx.CtxState = CtxPointers.Analyze(slots, flow.Entries);
        var program = new JitProgram(executable, mode, helpers, options, flow.Entries)
        {
            FrameClearBySlot = cx.FrameClearBySlot,
            CallsHelpers = CallsHelpers(slots),
            HasLegacyLoads = HasLegacyLoads(slots),
        };

        EmitPrologue(cx);
        EmitBody(cx);
        EmitHandlers(cx);
        cx.EmitColdStubs();

        program.NeedsRunState = cx.NeedsRunState;
        program.NeedsXdpFrame = cx.NeedsXdpFrame;
        program.HelperDelegates = [.. cx.Delegates];
        program.AccessHints = new int[cx.HintCount];
        program.IlSize = il.Offset;
        program.Body = (JitBody)method.CreateDelegate(typeof(JitBody), program);
        if (options.DumpIl is { } dump)
        {
            program.IlListing = il.Text;
            dump.Write(il.Text);
        }

        return program;
    }

    // How many bytes at the top of a frame to zero when each function (by its first slot) opens one; other slots 512.
    // Checked: the whole frame, as the interpreter does (any byte may be read). Unchecked with the verifier's stack
    // depths: the function's depth rounded up to 8, the only bytes any access of its activation can reach (kernel:
    // check_stack_access_within_bounds() grows stack_depth for every access, a helper's included), so the frame
    // reads exactly as a fully zeroed one. Not when the program may tail-call: the target runs in the same frame and
    // may reach deeper than the caller's depth, so those frames are cleared whole.
    private static int[] FrameClearSizes(Instruction[] slots, JitMode mode, VerifiedProgram? token, List<int> entries)
    {
        var sizes = new int[slots.Length + 1];
        Array.Fill(sizes, BpfInterpreter.StackSize);
        if (mode == JitMode.Checked)
        {
            // -(reach + 1): JitState.EnterFrame clears what the frame's previous occupant may have written.
            Array.Fill(sizes, -(StackReach(slots) + 1));
            return sizes;
        }

        if (token is null || MayTailCall(slots))
        {
            return sizes;
        }

        for (int i = 0; i < entries.Count; i++)
        {
            if (VerifiedStack.TryGetDepth(token, entries[i], out int depth))
            {
                sizes[entries[i]] = Math.Min(BpfInterpreter.StackSize, (depth + 7) & ~7);
            }
        }

        return sizes;
    }

    // Checked mode: how many bytes below r10 the program's own r10-relative stores and atomics that stay in the
    // current frame reach (the whole program: unverified code may jump between functions). Every other write into a
    // frame (a store or atomic through another register, a helper, a tail call's target) marks all frames dirty.
    private static int StackReach(Instruction[] slots)
    {
        int reach = 0;
        for (int pc = 0; pc < slots.Length; pc++)
        {
            var insn = slots[pc];
            if (insn.Class is OpClass.St or OpClass.Stx && insn.DstReg == 10
                && FlowInfo.InCurrentFrame(10, insn.Offset, insn.AccessBytes))
            {
                reach = Math.Max(reach, -insn.Offset);
            }
        }

        return reach;
    }

    // A helper or kfunc call, or a callx: the only instructions that reach the environment (and through it the
    // region table, callbacks and tail calls).
    private static bool CallsHelpers(Instruction[] slots)
    {
        for (int pc = 0; pc < slots.Length; pc++)
        {
            var insn = slots[pc];
            if (insn.Opcode == Op.CallX || (insn.Opcode == Op.Call && insn.SrcReg != (int)CallKind.Local))
            {
                return true;
            }
        }

        return false;
    }

    private static bool HasLegacyLoads(Instruction[] slots)
    {
        for (int pc = 0; pc < slots.Length; pc++)
        {
            var insn = slots[pc];
            if (insn.Class == OpClass.Ld && insn.Mode is MemMode.Abs or MemMode.Ind)
            {
                return true;
            }

            if (insn.IsLdImm64)
            {
                pc++;
            }
        }

        return false;
    }

    // bpf_tail_call (helper 12), or a callx, whose helper id is only known when it runs.
    private static bool MayTailCall(Instruction[] slots)
    {
        for (int pc = 0; pc < slots.Length; pc++)
        {
            var insn = slots[pc];
            if (insn.Opcode == Op.CallX || (insn.Opcode == Op.Call && insn.SrcReg == (int)CallKind.Helper && insn.Imm == 12))
            {
                return true;
            }
        }

        return false;
    }

    // Registers come from state.Args; the counters and the environment into locals; then the entry switch.
    // Locals rather than fields: the .NET JIT keeps them in machine registers across the whole method (the kernel's
    // x86 JIT maps r0-r10 onto fixed registers the same way). Everything that must survive a call into a helper
    // (the instruction count, the depth) is stored to the state around the call and reloaded after it.
    private static void EmitPrologue(EmitContext cx)
    {
        var il = cx.Il;
        il.Blank();
        il.Comment("prologue: r0-r10 from state.Args, counters and env into locals, then the entry switch");
        for (int r = 0; r <= 10; r++)
        {
            cx.LdState();
            il.Emit(OpCodes.Ldfld, JitMethods.Args);
            if (r > 0)
            {
                cx.LdI4(r * 8);
                il.Emit(OpCodes.Add);
            }

            il.Emit(OpCodes.Ldind_I8);
            cx.StReg(r);
        }

        cx.ReloadExecuted();
        il.Emit(OpCodes.Ldarg_3);
        il.Emit(OpCodes.Stloc, cx.Depth);
        cx.LdState();
        il.Emit(OpCodes.Ldfld, JitMethods.Env);
        il.Emit(OpCodes.Stloc, cx.Env);
        cx.ReloadPacketBounds();

        // state.Current = code, only when it changes: a reference store costs a GC write barrier on every run.
        var same = il.DefineLabel("CURRENT_SET");
        cx.LdState();
        il.Emit(OpCodes.Ldfld, JitMethods.Current);
        cx.LdCode();
        il.Emit(OpCodes.Beq, same);
        cx.LdState();
        cx.LdCode();
        il.Emit(OpCodes.Stfld, JitMethods.Current);
        il.MarkLabel(same);

        var entries = new Label[cx.Flow.Entries.Count];
        for (int i = 0; i < entries.Length; i++)
        {
            entries[i] = cx.Labels[cx.Flow.Entries[i]];
        }

        il.Emit(OpCodes.Ldarg_2);
        il.Emit(OpCodes.Switch, entries);
        cx.LdCode();
        il.Emit(OpCodes.Ldarg_2);
        cx.Throw(JitMethods.BadEntry);
    }

    private static void EmitBody(EmitContext cx)
    {
        var il = cx.Il;
        var slots = cx.Slots;
        var flow = cx.Flow;
        int blockEnd = -1;
        Label endLabel = default;
        for (int pc = 0; pc < slots.Length; pc++)
        {
            il.Blank();
            if (pc == blockEnd)
            {
                il.MarkLabel(endLabel);
            }

            if (flow.IsLabel[pc])
            {
                il.MarkLabel(cx.Labels[pc]);
            }

            if (flow.BlockCount[pc] > 0)
            {
                blockEnd = flow.BlockEnd[pc];
                endLabel = EmitBlockCheck(cx, pc, blockEnd);
            }
            else if (flow.SegmentCount[pc] > 0 && pc >= blockEnd)
            {
                EmitBudgetCheck(cx, pc, flow.SegmentCount[pc]);
            }

            pc = EmitInstruction(cx, pc);
        }

        // Past the last slot (a fall-through, or a call returning there): the interpreter's fault.
        il.Blank();
        if (blockEnd == slots.Length)
        {
            il.MarkLabel(endLabel);
        }

        il.MarkLabel(cx.Labels[slots.Length]);
        cx.LdCode();
        cx.Throw(JitMethods.FellOffEnd);
    }

    // A block (FlowInfo.MergeBlocks): executed += its count; when that passes the budget, the block's copy with the
    // per-segment checks runs instead (cold), from the block's first instruction, and rejoins after the block.
    private static Label EmitBlockCheck(EmitContext cx, int start, int end)
    {
        var il = cx.Il;
        var flow = cx.Flow;
        int count = flow.BlockCount[start];
        var endLabel = il.DefineLabel($"BLOCK_{start}_END");
        cx.CountDown(count);
        var slow = cx.Cold($"BLOCK_{start}_PER_SEGMENT", () =>
        {
            cx.InSlowCopy = true;
            il.Emit(OpCodes.Ldloc, cx.Left);
            cx.LdI8(count);
            il.Emit(OpCodes.Add);
            il.Emit(OpCodes.Stloc, cx.Left);
            for (int pc = start; pc < end; pc++)
            {
                if (flow.SegmentCount[pc] > 0)
                {
                    EmitBudgetCheck(cx, pc, flow.SegmentCount[pc]);
                }

                pc = EmitInstruction(cx, pc);
            }

            il.Emit(OpCodes.Br, endLabel);
            cx.InSlowCopy = false;
        });
        il.Emit(OpCodes.Blt, slow);
        if (cx.Checked)
        {
            AccessGroups.Emit(cx, start, end, slow);
        }

        return endLabel;
    }

    // One instruction; returns the slot of its last slot (pc + 1 for an lddw).
    private static int EmitInstruction(EmitContext cx, int pc)
    {
        var il = cx.Il;
        var slots = cx.Slots;
        var flow = cx.Flow;
        var insn = slots[pc];
        if (il.Listing)
        {
            il.Comment($"{pc}: ({insn.Opcode:x2}) {KernelFormatter.Format(slots, pc)}");
        }

        switch (insn.Class)
        {
            case OpClass.Alu:
            case OpClass.Alu64:
                AluEmitter.Emit(cx, insn, pc);
                break;
            case OpClass.Jmp:
            case OpClass.Jmp32:
                if (insn.JmpOp == JmpOp.Call)
                {
                    CallEmitter.Emit(cx, insn, pc);
                }
                else
                {
                    JmpEmitter.Emit(cx, insn, pc);
                }

                break;
            case OpClass.Ld when insn.Opcode == Op.LdDw:
                LdImm64Emitter.Emit(cx, insn, pc);
                pc++;
                if (flow.IsLabel[pc])
                {
                    EmitSecondSlotEntry(cx, pc);
                }

                break;
            default:
                LoadStoreEmitter.Emit(cx, insn, pc);
                break;
        }

        return pc;
    }

    // left -= count; if (left < 0), i.e. the count passed the budget, fault at the first instruction of the segment
    // past the budget.
    private static void EmitBudgetCheck(EmitContext cx, int pc, int count)
    {
        var il = cx.Il;
        cx.CountDown(count);
        var stub = cx.Cold($"BUDGET_{pc}", () =>
        {
            cx.LdCode();
            cx.LdState();
            cx.LdExecuted();
            cx.LdI4(count);
            cx.LdI4(pc);
            cx.Throw(JitMethods.BudgetFault);
        });
        il.Emit(OpCodes.Blt, stub);
    }

    // A callback entered at the second slot of a 64-bit load: the interpreter counts it and finds opcode 0 there. The
    // code lives with the cold stubs (the load before it falls through past this slot).
    private static void EmitSecondSlotEntry(EmitContext cx, int pc)
    {
        var il = cx.Il;
        cx.Cold($"PC_{pc}_SECOND_SLOT", () =>
        {
            il.MarkLabel(cx.Labels[pc]);
            cx.CountDown(1);
            var fine = il.DefineLabel($"PC_{pc}_OPCODE");
            il.Emit(OpCodes.Bge, fine);
            cx.LdI4(pc);
            cx.LdState();
            il.Emit(OpCodes.Ldfld, JitMethods.Budget);
            cx.Throw(JitMethods.FaultBudgetExceeded);
            il.MarkLabel(fine);
            cx.LdI4(pc);
            cx.LdI4(cx.Slots[pc].Opcode);
            cx.Throw(JitMethods.FaultInvalidOpcode);
        });
    }

    private static void EmitHandlers(EmitContext cx)
    {
        var il = cx.Il;

        // exit below the activation's first frame: depth--, restore r6-r10, drop the callee's stack, return.
        il.Blank();
        il.MarkLabel(cx.PopHandler);
        il.Emit(OpCodes.Ldloc, cx.Depth);
        il.Emit(OpCodes.Ldc_I4_1);
        il.Emit(OpCodes.Sub);
        il.Emit(OpCodes.Stloc, cx.Depth);
        cx.LdState();
        il.Emit(OpCodes.Ldloc, cx.Depth);
        cx.Call(JitMethods.PopFrame);
        var saved = new[] { JitMethods.FrameR6, JitMethods.FrameR7, JitMethods.FrameR8, JitMethods.FrameR9, JitMethods.FrameR10 };
        for (int i = 0; i < saved.Length; i++)
        {
            il.Emit(OpCodes.Dup);
            il.Emit(OpCodes.Ldfld, saved[i]);
            cx.StReg(6 + i);
        }

        il.Emit(OpCodes.Ldfld, JitMethods.FrameReturnSite);
        il.Emit(OpCodes.Switch, cx.ReturnSites.ToArray());
        cx.LdCode();
        cx.LdI4(-1);
        cx.Throw(JitMethods.BadReturnSite);

        // A tail call: the target runs in this frame with the registers as they are; its r0 is this frame's exit value.
        il.Blank();
        il.MarkLabel(cx.TailHandler);
        for (int r = 0; r <= 10; r++)
        {
            cx.LdState();
            il.Emit(OpCodes.Ldfld, JitMethods.Args);
            if (r > 0)
            {
                cx.LdI4(r * 8);
                il.Emit(OpCodes.Add);
            }

            cx.LdReg(r);
            il.Emit(OpCodes.Stind_I8);
        }

        cx.SyncExecuted();
        cx.LdState();
        il.Emit(OpCodes.Ldloc, cx.TailPc);
        il.Emit(OpCodes.Ldloc, cx.Depth);
        cx.Call(JitMethods.TailCall);
        cx.StReg(0);
        var aborted = il.DefineLabel("TAIL_ABORTED");
        cx.LdState();
        il.Emit(OpCodes.Ldfld, JitMethods.Abort);
        il.Emit(OpCodes.Brtrue, aborted);
        cx.LdState();
        cx.LdCode();
        il.Emit(OpCodes.Stfld, JitMethods.Current);
        cx.ReloadExecuted();
        cx.ReloadPacketBounds();
        cx.EmitExit();
        il.MarkLabel(aborted);
        cx.LdI8(0);
        il.Emit(OpCodes.Ret);

        // LD_ABS / LD_IND out of bounds: the program ends (every frame, every tail call) with r0 = 0.
        il.Blank();
        il.MarkLabel(cx.LdAbsFail);
        cx.SyncExecuted();
        cx.LdState();
        il.Emit(OpCodes.Ldc_I4_1);
        il.Emit(OpCodes.Stfld, JitMethods.Abort);
        cx.LdI8(0);
        il.Emit(OpCodes.Ret);
        il.Blank();
    }
}
