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
/// index goes to the state (a fault the helper raises gets it), and afterwards a pending tail call is taken.</para>
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
        // kernel: fixup_bpf_calls() binds the helper's address at load; here the MethodInfo is bound at compile time.
        // r1-r5 are passed by value: the helper cannot change the program's registers, only r0 (as in the
        // interpreter; the kernel clobbers r1-r5, which the verifier then forbids reading).
        var il = cx.Il;
        BeforeCall(cx, pc);
        MethodInfo m = f.Method;
        bool direct = m.IsStatic && f.Target is null && HasHelperSignature(m);
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
        AfterCall(cx, pc);
    }

    private static void EmitCallX(EmitContext cx, Instruction insn, int pc)
    {
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
