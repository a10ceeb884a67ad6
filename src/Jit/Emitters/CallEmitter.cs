using System.Reflection;
using System.Reflection.Emit;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Isa;

namespace VethXdp.Jit.Emitters;

/// <summary>Calls: BPF-to-BPF calls on the method's explicit call stack, helpers and kfuncs through the same methods
/// the interpreter calls, and callx.</summary>
/// <remarks>
/// <para>A helper or kfunc whose delegate targets a static method is called directly (<c>call</c> to its
/// MethodInfo, which the .NET JIT may inline); any other delegate is invoked from the program's constants. The table
/// is read when the program is compiled; an id it does not have faults when the call runs, as in the interpreter.</para>
/// <para>Around every call the instruction count goes to the state (callbacks count into it) and comes back, the call's
/// index goes to the state (a fault the helper raises gets it), and afterwards a pending tail call is taken. Unchecked
/// code binds the verified forms of some helpers (<see cref="VerifiedHelpers"/>: no checks the verifier made, map
/// pointers resolved through the engine's map cache); around those that start no callback and no tail call only the call's
/// index is stored; and a bpf_loop with a constant callback runs inline, its callback as a BPF-to-BPF call.</para>
/// <para>A BPF-to-BPF call saves the return site and r6-r10 in the frame at the current depth and jumps to the
/// callee's label with a fresh stack frame; its exit pops the frame and switches back to the return site. One method
/// holds the whole program, so any control flow the interpreter runs (a jump into another function, falling through
/// into the next one) runs the same here.</para>
/// </remarks>
internal static class CallEmitter
{
    public static void Emit(EmitContext cx, in Instruction insn, int pc)
    {
        if (insn.Opcode == Op.CallX)
        {
            EmitCallX(cx, insn, pc);
            return;
        }

        switch ((CallKind)insn.SrcReg)
        {
            case CallKind.Local:
                EmitLocalCall(cx, insn, pc);
                break;
            case CallKind.Kfunc:
                if (!cx.Helpers.TryGetKfunc(insn.Imm, out var kfunc))
                {
                    cx.LdI4(pc);
                    cx.LdI4(insn.Imm);
                    cx.Throw(JitMethods.FaultUnknownKfunc);
                    return;
                }

                EmitHelperCall(cx, kfunc, pc);
                break;
            default:
                if (!cx.Helpers.TryGet(insn.Imm, out var helper))
                {
                    cx.LdI4(pc);
                    cx.LdI8(insn.Imm);
                    cx.Throw(JitMethods.FaultUnknownHelper);
                    return;
                }

                EmitHelperCall(cx, helper, pc);
                break;
        }
    }

    private static void EmitLocalCall(EmitContext cx, Instruction insn, int pc)
    {
        // kernel: ___bpf_prog_run() JMP_CALL for BPF_PSEUDO_CALL. The interpreter keeps the same frames: r1-r5 pass
        // as they are (the callee's arguments), r6-r9 and r10 come back on exit, the callee gets a fresh 512-byte
        // frame of its own, zeroed as far as it can reach (all of it when checked; its verified depth when not). The return site is an index into the method's return switch, so no
        // address ever needs to leave the method.
        var il = cx.Il;
        int site = cx.ReturnSites.Count;
        cx.ReturnSites.Add(cx.Labels[pc + 1]);

        // r10 = PushFrame(state, depth, site, r6..r10, pc); depth++; goto callee
        cx.LdState();
        il.Emit(OpCodes.Ldloc, cx.Depth);
        cx.LdI4(site);
        for (int r = 6; r <= 10; r++)
        {
            cx.LdReg(r);
        }

        cx.LdI4(cx.FrameClear(pc + 1 + insn.Imm));
        cx.LdI4(pc);
        cx.Call(JitMethods.PushFrame);
        cx.StReg(10);
        il.Emit(OpCodes.Ldloc, cx.Depth);
        il.Emit(OpCodes.Ldc_I4_1);
        il.Emit(OpCodes.Add);
        il.Emit(OpCodes.Stloc, cx.Depth);
        il.Emit(OpCodes.Br, cx.Labels[pc + 1 + insn.Imm]);
    }

    private static void EmitHelperCall(EmitContext cx, HelperFunc f, int pc)
    {
        if (!cx.Checked && f.Target is null && f.Method == s_loop && TryFindFunction(cx, pc, 2, out int callback))
        {
            EmitInlineLoop(cx, pc, callback);
            return;
        }

        // kernel: fixup_bpf_calls() binds the helper's address at load; here the MethodInfo is bound at compile time.
        // r1-r5 are passed by value: the helper cannot change the program's registers, only r0 (as in the
        // interpreter; the kernel clobbers r1-r5, which the verifier then forbids reading).
        var il = cx.Il;
        MethodInfo m = f.Method;
        bool direct = m.IsStatic && f.Target is null && HasHelperSignature(m);
        if (direct && !cx.Checked)
        {
            // A verified program's map helpers without the checks the verifier made (see VerifiedHelpers).
            m = VerifiedHelpers.For(m);
        }

        if (direct && cx.Checked && (CheckedHelpers.OnSite(m) is not null || CheckedHelpers.IsRegionFree(m)))
        {
            EmitCheckedQuietCall(cx, m, pc);
            return;
        }

        bool free = direct && VerifiedHelpers.IsRunStateFree(m);
        if (direct && VerifiedHelpers.IsFrameOnly(m))
        {
            cx.NeedsXdpFrame = true;
        }
        else if (!free)
        {
            cx.NeedsRunState = true;
        }

        // Unchecked code calling a helper that starts no callback and no tail call: only the call's index goes to
        // the state (for a fault the helper raises). Nothing reads the instruction count or the depth during the call,
        // nothing changes them, and only bpf_tail_call leaves a pending tail call.
        bool plain = direct && !cx.Checked && VerifiedHelpers.IsQuiet(m);
        if (plain)
        {
            cx.LdState();
            cx.LdI4(pc);
            il.Emit(OpCodes.Stfld, JitMethods.Pc);
        }
        else
        {
            BeforeCall(cx, pc);
        }

        if (plain && VerifiedHelpers.OnMap(m) is { } onMap)
        {
            // r0 = helper(state, r1, r2..., env): r1 resolved through the engine's map cache.
            LdNamedArgs(cx, onMap);
            cx.Call(onMap);
            cx.StReg(0);
            return;
        }

        if (!direct)
        {
            cx.LdCode();
            il.Emit(OpCodes.Ldfld, JitMethods.HelperDelegates);
            cx.LdI4(cx.DelegateIndex(f));
            il.Emit(OpCodes.Ldelem_Ref);
        }

        for (int r = 1; r <= 5; r++)
        {
            cx.LdReg(r);
        }

        il.Emit(OpCodes.Ldloc, cx.Env);
        if (direct)
        {
            cx.Call(m);
        }
        else
        {
            il.Emit(OpCodes.Callvirt, JitMethods.HelperInvoke);
        }

        cx.StReg(0);
        if (!plain)
        {
            AfterCall(cx, pc);
        }
    }

    // Checked code calling a helper that needs neither the run's regions (registered lazily, see
    // JitEngine.RunXdpChecked) nor its count, depth or pending tail call, and writes no stack frame
    // (CheckedHelpers; a spin lock marks the frames itself when its word is in one): only the call's index goes to
    // the state, for a fault the helper raises. A map helper gets its site's cache and the current frame's r10 (its
    // pointers inside that frame need no table search).
    private static void EmitCheckedQuietCall(EmitContext cx, MethodInfo m, int pc)
    {
        var il = cx.Il;
        cx.LdState();
        cx.LdI4(pc);
        il.Emit(OpCodes.Stfld, JitMethods.Pc);
        if (CheckedHelpers.OnSite(m) is { } onSite)
        {
            LdNamedArgs(cx, onSite);
            cx.Call(onSite);
        }
        else
        {
            for (int r = 1; r <= 5; r++)
            {
                cx.LdReg(r);
            }

            il.Emit(OpCodes.Ldloc, cx.Env);
            cx.Call(m);
        }

        cx.StReg(0);
    }

    private static readonly MethodInfo s_loop = typeof(LoopHelpers).GetMethod(nameof(LoopHelpers.Loop))!;

    // Unchecked bpf_loop(nr_loops, callback, ctx, flags) whose callback is a constant (the verifier demands a
    // PTR_TO_FUNC there): the loop runs in the method, each callback as a BPF-to-BPF call one frame up, as the kernel
    // inlines it (kernel: inline_bpf_loop()). LoopHelpers.Loop's semantics: -EINVAL for flags, -E2BIG above 8M,
    // callback(i, ctx, 0, 0, 0) until it returns non-zero (then i + 1) or the count is reached (then the count); the
    // callbacks' instructions count against the budget as they run; a callback that would open a ninth frame faults
    // as InvokeCallback's does, at this call. r1-r5 are not kept: the verifier makes them unreadable after a call.
    // The loop's own state is in IL locals of this call site (a verified program cannot re-enter a call site while
    // it is running: recursion is refused).
    private static void EmitInlineLoop(EmitContext cx, int pc, int callback)
    {
        var il = cx.Il;
        var count = il.DeclareLocal(typeof(ulong), $"loop_{pc}_n");
        var i = il.DeclareLocal(typeof(ulong), $"loop_{pc}_i");
        var arg = il.DeclareLocal(typeof(ulong), $"loop_{pc}_ctx");
        var next = il.DefineLabel($"LOOP_{pc}_NEXT");
        var top = il.DefineLabel($"LOOP_{pc}_TOP");
        var ret = il.DefineLabel($"LOOP_{pc}_RETURN");
        var done = il.DefineLabel($"LOOP_{pc}_DONE");
        int site = cx.ReturnSites.Count;
        cx.ReturnSites.Add(ret);

        // A fault raised here (the frame limit) names this call.
        cx.LdState();
        cx.LdI4(pc);
        il.Emit(OpCodes.Stfld, JitMethods.Pc);
        var einval = cx.Cold($"LOOP_{pc}_EINVAL", () =>
        {
            cx.LdI8(-Vm.Maps.Errno.EINVAL);
            cx.StReg(0);
            il.Emit(OpCodes.Br, next);
        });
        var e2big = cx.Cold($"LOOP_{pc}_E2BIG", () =>
        {
            cx.LdI8(-Vm.Maps.Errno.E2BIG);
            cx.StReg(0);
            il.Emit(OpCodes.Br, next);
        });
        cx.LdReg(4);
        il.Emit(OpCodes.Brtrue, einval);
        cx.LdReg(1);
        il.Emit(OpCodes.Conv_U4);
        il.Emit(OpCodes.Conv_U8);
        il.Emit(OpCodes.Stloc, count);
        il.Emit(OpCodes.Ldloc, count);
        cx.LdI8(LoopHelpers.MaxLoops);
        il.Emit(OpCodes.Bgt_Un, e2big);
        cx.LdReg(3);
        il.Emit(OpCodes.Stloc, arg);
        cx.LdI8(0);
        il.Emit(OpCodes.Stloc, i);

        il.MarkLabel(top);
        il.Emit(OpCodes.Ldloc, i);
        il.Emit(OpCodes.Ldloc, count);
        il.Emit(OpCodes.Bge_Un, done);
        il.Emit(OpCodes.Ldloc, i);
        cx.StReg(1);
        il.Emit(OpCodes.Ldloc, arg);
        cx.StReg(2);
        for (int r = 3; r <= 5; r++)
        {
            cx.LdI8(0);
            cx.StReg(r);
        }

        // r10 = PushCallbackFrame(state, depth, site, r6..r10, clear); depth++; goto callback
        cx.LdState();
        il.Emit(OpCodes.Ldloc, cx.Depth);
        cx.LdI4(site);
        for (int r = 6; r <= 10; r++)
        {
            cx.LdReg(r);
        }

        cx.LdI4(cx.FrameClear(callback));
        cx.Call(JitMethods.PushCallbackFrame);
        cx.StReg(10);
        il.Emit(OpCodes.Ldloc, cx.Depth);
        il.Emit(OpCodes.Ldc_I4_1);
        il.Emit(OpCodes.Add);
        il.Emit(OpCodes.Stloc, cx.Depth);
        il.Emit(OpCodes.Br, cx.Labels[callback]);

        // The callback returned (its frame popped, r6-r10 restored): 0 continues, anything else stops.
        il.MarkLabel(ret);
        il.Emit(OpCodes.Ldloc, i);
        cx.LdI8(1);
        il.Emit(OpCodes.Add);
        il.Emit(OpCodes.Stloc, i);
        cx.LdReg(0);
        il.Emit(OpCodes.Brfalse, top);
        il.Emit(OpCodes.Ldloc, i);
        cx.StReg(0);
        il.Emit(OpCodes.Br, next);

        il.MarkLabel(done);
        il.Emit(OpCodes.Ldloc, count);
        cx.StReg(0);
        il.MarkLabel(next);
    }

    // The function whose address register `reg` holds at `pc`, when the straight code before it (no label between)
    // loaded it with an lddw BPF_PSEUDO_FUNC and nothing wrote the register since.
    private static bool TryFindFunction(EmitContext cx, int pc, int reg, out int function)
    {
        var slots = cx.Slots;
        var flow = cx.Flow;
        function = -1;
        for (int p = pc - 1; p >= 0 && !flow.IsLabel[p + 1]; p--)
        {
            if (flow.IsSecondSlot[p])
            {
                continue;
            }

            var insn = slots[p];
            switch (insn.Class)
            {
                case OpClass.Ld when insn.IsLdImm64:
                    if (insn.DstReg == reg)
                    {
                        if (insn.SrcReg != (int)PseudoSrc.Func)
                        {
                            return false;
                        }

                        function = p + 1 + insn.Imm;
                        return function < slots.Length && flow.IsLabel[function] && flow.Entries.Contains(function);
                    }

                    break;
                case OpClass.Alu:
                case OpClass.Alu64:
                case OpClass.Ldx:
                    if (insn.DstReg == reg)
                    {
                        return false;
                    }

                    break;
                case OpClass.St:
                    break;
                case OpClass.Stx:
                    if (insn.Mode == MemMode.Atomic && (reg == 0 || insn.SrcReg == reg))
                    {
                        return false;
                    }

                    break;
                case OpClass.Jmp:
                case OpClass.Jmp32:
                    if (insn.JmpOp is JmpOp.Call or JmpOp.Exit || insn.JmpOp == JmpOp.Ja)
                    {
                        return false;
                    }

                    break;
                default:
                    return false;
            }
        }

        return false;
    }

    private static void EmitCallX(EmitContext cx, Instruction insn, int pc)
    {
        cx.NeedsRunState = true;
        BeforeCall(cx, pc);
        cx.LdCode();
        cx.LdState();
        cx.LdReg(insn.DstReg);
        for (int r = 1; r <= 5; r++)
        {
            cx.LdReg(r);
        }

        cx.Call(JitMethods.CallX);
        cx.StReg(0);
        AfterCall(cx, pc);
    }

    // What a helper that calls back (bpf_loop, for_each_map_elem, timers) or faults needs from the caller: the
    // instruction count so far (the callback's instructions count against the same budget), the call's index (a
    // fault without one gets it), the depth (the callback's frame goes one above).
    private static void BeforeCall(EmitContext cx, int pc)
    {
        var il = cx.Il;
        cx.SyncExecuted();
        cx.LdState();
        cx.LdI4(pc);
        il.Emit(OpCodes.Stfld, JitMethods.Pc);
        cx.LdState();
        il.Emit(OpCodes.Ldloc, cx.Depth);
        il.Emit(OpCodes.Stfld, JitMethods.Depth);
        if (cx.Checked)
        {
            // The helper may write any live frame through a pointer (marked before it runs: it may fault halfway).
            cx.LdState();
            il.Emit(OpCodes.Ldc_I4_M1);
            il.Emit(OpCodes.Stfld, JitMethods.StackDirty);

            // It checks its pointers against the run's regions and may use the run's buffer: a lazy run registers
            // them now (JitState.EnsureRegions).
            cx.LdState();
            cx.Call(JitMethods.EnsureRegions);
        }
    }

    private static void AfterCall(EmitContext cx, int pc)
    {
        var il = cx.Il;
        cx.ReloadExecuted();
        cx.ReloadPacketBounds();

        // bpf_tail_call succeeded: continue in the target, in this frame. kernel: ___bpf_prog_run() JMP_TAIL_CALL.
        il.Emit(OpCodes.Ldloc, cx.Env);
        il.Emit(OpCodes.Callvirt, JitMethods.PendingTailCall);
        var stub = cx.Cold($"TAIL_{pc}", () =>
        {
            cx.LdI4(pc);
            il.Emit(OpCodes.Stloc, cx.TailPc);
            il.Emit(OpCodes.Br, cx.TailHandler);
        });
        il.Emit(OpCodes.Brtrue, stub);
    }

    // Pushes the arguments of a helper form whose parameters are named after what the call site has: `s` the state,
    // `env` the environment, `rN` register N (VerifiedHelpers.OnMap, CheckedHelpers.OnSite).
    private static void LdNamedArgs(EmitContext cx, MethodInfo form)
    {
        foreach (var p in form.GetParameters())
        {
            switch (p.Name)
            {
                case "s":
                    cx.LdState();
                    break;
                case "env":
                    cx.Il.Emit(OpCodes.Ldloc, cx.Env);
                    break;
                default:
                    cx.LdReg(int.Parse(p.Name!.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture));
                    break;
            }
        }
    }

    private static bool HasHelperSignature(MethodInfo m)
    {
        if (m.ReturnType != typeof(ulong))
        {
            return false;
        }

        var ps = m.GetParameters();
        if (ps.Length != 6 || ps[5].ParameterType != typeof(RuntimeEnv))
        {
            return false;
        }

        for (int i = 0; i < 5; i++)
        {
            if (ps[i].ParameterType != typeof(ulong))
            {
                return false;
            }
        }

        return true;
    }
}
