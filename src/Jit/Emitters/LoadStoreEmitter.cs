using System.Reflection;
using System.Reflection.Emit;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Xdp;

namespace VethXdp.Jit.Emitters;

/// <summary>BPF_LDX, BPF_ST, BPF_STX (atomics included) and the legacy packet loads LD_ABS / LD_IND.</summary>
/// <remarks>
/// <para>Checked mode first compares the address with the packet region's bounds, kept in two locals
/// (<see cref="EmitContext.ReloadPacketBounds"/>): an access wholly inside the packet is a plain <c>ldind</c>/<c>stind</c>
/// (the packet is writable, is not the context, and overlaps no other region, so the table would accept it too). Any
/// other access goes to a cold stub that calls a <see cref="JitRuntime"/> load or store: the interpreter's region check
/// (RegionTable.FindFrom, starting at the region this site hit last: one hint slot per site in
/// <see cref="JitProgram.AccessHints"/>), the context rules, and the access itself, or the same fault. One kind of
/// access needs no check in any mode: r10 with a constant offset inside [-512, 0) is the current stack frame, which is
/// always registered and writable (r10 is read only, and a call gives the callee a registered frame), so it is a plain
/// <c>ldind</c>/<c>stind</c>. Two or more accesses of a block through one unchanged register share one check at the
/// block's start (<see cref="AccessGroups"/>), and a 4-byte load of an xdp_md field through a register that is the
/// run's context reads the field (EmitContextLoad).</para>
/// <para>Unchecked mode (verified programs) loads and stores directly, with the <c>unaligned.</c> prefix unless the
/// alignment is proven (r10 is 64-byte aligned). Its 4-byte loads still recognise the context by address.</para>
/// </remarks>
internal static class LoadStoreEmitter
{
    public static void Emit(EmitContext cx, in Instruction insn, int pc)
    {
        switch (insn.Class)
        {
            case OpClass.Ldx:
                EmitLoad(cx, insn, pc);
                break;
            case OpClass.St:
            case OpClass.Stx:
                if (insn.Mode == MemMode.Atomic)
                {
                    EmitAtomic(cx, insn, pc);
                }
                else
                {
                    EmitStore(cx, insn, pc);
                }

                break;
            default:
                EmitLegacyPacketLoad(cx, insn);
                break;
        }
    }

    private static void EmitLoad(EmitContext cx, Instruction insn, int pc)
    {
        var il = cx.Il;
        int size = insn.AccessBytes;
        bool signed = insn.Mode == MemMode.MemSx;
        bool inFrame = FlowInfo.InCurrentFrame(insn.SrcReg, insn.Offset, size);
        MethodInfo? call = null;
        // Checked: an access its block's group check covered (AccessGroups) is a plain one, as in the frame.
        if (!inFrame && cx.Checked && !cx.IsGrouped(pc))
        {
            if (size == 4 && cx.CtxState?[pc] == CtxPointers.Ctx && JitMethods.IsContextField(insn.Offset)
                && !(signed && insn.Offset is XdpMd.Data or XdpMd.DataEnd or XdpMd.DataMeta))
            {
                EmitContextLoad(cx, insn, pc, signed ? JitMethods.LdxSW : JitMethods.LdxW, signed, checkedMode: true);
                return;
            }

            call = (size, signed) switch
            {
                (1, false) => JitMethods.LdxB,
                (2, false) => JitMethods.LdxH,
                (4, false) => JitMethods.LdxW,
                (8, _) => JitMethods.LdxDW,
                (1, true) => JitMethods.LdxSB,
                (2, true) => JitMethods.LdxSH,
                _ => JitMethods.LdxSW,
            };
        }
        else if (!inFrame && size == 4 && !cx.Checked)
        {
            call = signed ? JitMethods.LdxSWUnchecked : JitMethods.LdxWUnchecked;
            switch (cx.CtxState?[pc] ?? CtxPointers.Unknown)
            {
                case CtxPointers.NotCtx:
                    // Never the context on any path: a plain load (see CtxPointers).
                    call = null;
                    break;
                case CtxPointers.Ctx when JitMethods.IsContextField(insn.Offset)
                    && !(signed && insn.Offset is XdpMd.Data or XdpMd.DataEnd or XdpMd.DataMeta):
                    EmitContextLoad(cx, insn, pc, call, signed, checkedMode: false);
                    return;
            }
        }

        if (call is not null && cx.Checked)
        {
            EmitCheckedLoad(cx, insn, pc, call, size, signed);
            return;
        }

        if (call is not null)
        {
            cx.LdState();
            cx.LdAddress(insn.SrcReg, insn.Offset);
            cx.LdI4(pc);
            cx.Call(call);
            cx.StReg(insn.DstReg);
            return;
        }

        cx.LdAddress(insn.SrcReg, insn.Offset);
        il.Emit(OpCodes.Conv_U);
        Unaligned(cx, size, inFrame && insn.Offset % size == 0);
        switch (size, signed)
        {
            case (1, false): il.Emit(OpCodes.Ldind_U1); il.Emit(OpCodes.Conv_U8); break;
            case (2, false): il.Emit(OpCodes.Ldind_U2); il.Emit(OpCodes.Conv_U8); break;
            case (4, false): il.Emit(OpCodes.Ldind_U4); il.Emit(OpCodes.Conv_U8); break;
            case (8, _): il.Emit(OpCodes.Ldind_I8); break;
            case (1, true): il.Emit(OpCodes.Ldind_I1); il.Emit(OpCodes.Conv_I8); break;
            case (2, true): il.Emit(OpCodes.Ldind_I2); il.Emit(OpCodes.Conv_I8); break;
            default: il.Emit(OpCodes.Ldind_I4); il.Emit(OpCodes.Conv_I8); break;
        }

        cx.StReg(insn.DstReg);
    }

    // A 4-byte load of a valid xdp_md field whose base register the analysis says is the context (CtxPointers; only
    // where to try this, not why it is safe), read straight from the context block (the pointers from its 64-bit
    // shadow, XdpContext.PointerShadow) as the kernel's rewritten load reads xdp_buff (kernel: xdp_convert_ctx_access()) when the base is this run's context; any other value takes
    // `fallback` (cold), the address check of before.
    // Unchecked: the base is the context on every path; a run over plain memory has another address.
    // Checked: also only while the run has a context (JitState.CtxLive: never set while CtxAddress is not a live
    // context's); the field is then in the context region, which the run owns (registered, or registered at that index
    // as soon as the run needs the table), and the interpreter reads the field; so is this. The fallback is the checked
    // load, with its region search and faults.
    private static void EmitContextLoad(EmitContext cx, Instruction insn, int pc, MethodInfo fallback, bool signed, bool checkedMode)
    {
        var il = cx.Il;
        int dst = insn.DstReg;
        var done = il.DefineLabel($"LDX_{pc}_CTX_DONE");
        var other = cx.Cold($"LDX_{pc}_NOT_CTX", () =>
        {
            cx.LdState();
            cx.LdAddress(insn.SrcReg, insn.Offset);
            cx.LdI4(pc);
            if (checkedMode)
            {
                cx.LdNewHint();
            }

            cx.Call(fallback);
            cx.StReg(dst);
            il.Emit(OpCodes.Br, done);
        });
        cx.LdReg(insn.SrcReg);
        cx.LdState();
        il.Emit(OpCodes.Ldfld, JitMethods.CtxAddress);
        il.Emit(OpCodes.Bne_Un, other);
        if (checkedMode)
        {
            cx.LdState();
            il.Emit(OpCodes.Ldfld, JitMethods.CtxLive);
            il.Emit(OpCodes.Brfalse, other);
        }

        // The base is the run's context block: the field's value is in it (XdpContext.FieldOffset), one load.
        int at = XdpContext.FieldOffset(insn.Offset, out bool wide);
        cx.LdReg(insn.SrcReg);
        il.Emit(OpCodes.Conv_U);
        cx.LdI4(at);
        il.Emit(OpCodes.Add);
        if (wide)
        {
            il.Emit(OpCodes.Ldind_I8);
        }
        else
        {
            il.Emit(signed ? OpCodes.Ldind_I4 : OpCodes.Ldind_U4);
            il.Emit(signed ? OpCodes.Conv_I8 : OpCodes.Conv_U8);
        }

        cx.StReg(dst);
        il.MarkLabel(done);
    }

    private static void EmitStore(EmitContext cx, Instruction insn, int pc)
    {
        var il = cx.Il;
        int size = insn.AccessBytes;
        bool imm = insn.Class == OpClass.St;
        bool inFrame = FlowInfo.InCurrentFrame(insn.DstReg, insn.Offset, size);
        if (cx.Checked && !inFrame && !cx.IsGrouped(pc))
        {
            EmitCheckedStore(cx, insn, pc, size, imm);
            return;
        }

        cx.LdAddress(insn.DstReg, insn.Offset);
        il.Emit(OpCodes.Conv_U);
        if (size == 8)
        {
            if (imm)
            {
                cx.LdI8(insn.Imm);
            }
            else
            {
                cx.LdReg(insn.SrcReg);
            }
        }
        else if (imm)
        {
            cx.LdI4(insn.Imm);
        }
        else
        {
            cx.LdReg(insn.SrcReg);
            il.Emit(OpCodes.Conv_U4);
        }

        Unaligned(cx, size, inFrame && insn.Offset % size == 0);
        il.Emit(size switch
        {
            1 => OpCodes.Stind_I1,
            2 => OpCodes.Stind_I2,
            4 => OpCodes.Stind_I4,
            _ => OpCodes.Stind_I8,
        });
    }

    // Checked load outside the current frame: addr = src + off; inside [pkt_lo, pkt_hi) it is a plain load, else the
    // runtime's region search (cold stub, which faults exactly as the interpreter does or loads from another region).
    private static void EmitCheckedLoad(EmitContext cx, Instruction insn, int pc, MethodInfo call, int size, bool signed)
    {
        var il = cx.Il;
        var addr = cx.Addr!;
        cx.LdAddress(insn.SrcReg, insn.Offset);
        il.Emit(OpCodes.Stloc, addr);
        int dst = insn.DstReg;
        var done = il.DefineLabel($"LDX_{pc}_DONE");
        var slow = cx.Cold($"LDX_{pc}_SLOW", () =>
        {
            cx.LdState();
            il.Emit(OpCodes.Ldloc, addr);
            cx.LdI4(pc);
            cx.LdNewHint();
            cx.Call(call);
            cx.StReg(dst);
            il.Emit(OpCodes.Br, done);
        });
        EmitPacketCheck(cx, size, slow);
        il.Emit(OpCodes.Ldloc, addr);
        il.Emit(OpCodes.Conv_U);
        Unaligned(cx, size, aligned: false);
        switch (size, signed)
        {
            case (1, false): il.Emit(OpCodes.Ldind_U1); il.Emit(OpCodes.Conv_U8); break;
            case (2, false): il.Emit(OpCodes.Ldind_U2); il.Emit(OpCodes.Conv_U8); break;
            case (4, false): il.Emit(OpCodes.Ldind_U4); il.Emit(OpCodes.Conv_U8); break;
            case (8, _): il.Emit(OpCodes.Ldind_I8); break;
            case (1, true): il.Emit(OpCodes.Ldind_I1); il.Emit(OpCodes.Conv_I8); break;
            case (2, true): il.Emit(OpCodes.Ldind_I2); il.Emit(OpCodes.Conv_I8); break;
            default: il.Emit(OpCodes.Ldind_I4); il.Emit(OpCodes.Conv_I8); break;
        }

        cx.StReg(dst);
        il.MarkLabel(done);
    }

    // Checked store outside the current frame: as the load, with the runtime's checked store as the slow path. The
    // value is the full register or the sign-extended imm (as the interpreter stores it); the store truncates.
    private static void EmitCheckedStore(EmitContext cx, Instruction insn, int pc, int size, bool imm)
    {
        var il = cx.Il;
        var addr = cx.Addr!;
        cx.LdAddress(insn.DstReg, insn.Offset);
        il.Emit(OpCodes.Stloc, addr);
        var done = il.DefineLabel($"ST_{pc}_DONE");
        var slow = cx.Cold($"ST_{pc}_SLOW", () =>
        {
            cx.LdState();
            il.Emit(OpCodes.Ldloc, addr);
            LdStoreValue(cx, insn, imm);
            cx.LdI4(pc);
            cx.LdNewHint();
            cx.Call(size switch
            {
                1 => JitMethods.StB,
                2 => JitMethods.StH,
                4 => JitMethods.StW,
                _ => JitMethods.StDW,
            });
            il.Emit(OpCodes.Br, done);
        });
        EmitPacketCheck(cx, size, slow);
        il.Emit(OpCodes.Ldloc, addr);
        il.Emit(OpCodes.Conv_U);
        LdStoreValue(cx, insn, imm);
        if (size < 8)
        {
            il.Emit(OpCodes.Conv_U4);
        }

        Unaligned(cx, size, aligned: false);
        il.Emit(size switch
        {
            1 => OpCodes.Stind_I1,
            2 => OpCodes.Stind_I2,
            4 => OpCodes.Stind_I4,
            _ => OpCodes.Stind_I8,
        });
        il.MarkLabel(done);
    }

    private static void LdStoreValue(EmitContext cx, Instruction insn, bool imm)
    {
        if (imm)
        {
            cx.LdI8(insn.Imm);
        }
        else
        {
            cx.LdReg(insn.SrcReg);
        }
    }

    // Branches to `slow` unless pkt_lo <= addr && addr <= pkt_hi - size, i.e. [addr, addr + size) inside the packet
    // region (pkt_hi >= 8, so the subtraction does not wrap; no packet: pkt_lo = MaxValue, pkt_hi = 8, never inside).
    private static void EmitPacketCheck(EmitContext cx, int size, Label slow)
    {
        var il = cx.Il;
        il.Emit(OpCodes.Ldloc, cx.Addr!);
        cx.LdPktLo();
        il.Emit(OpCodes.Blt_Un, slow);
        il.Emit(OpCodes.Ldloc, cx.Addr!);
        cx.LdPktHi();
        cx.LdI8(size);
        il.Emit(OpCodes.Sub);
        il.Emit(OpCodes.Bgt_Un, slow);
    }

    // BPF_ATOMIC: add/or/and/xor (optionally with BPF_FETCH: the old value to src), xchg, cmpxchg (old value to r0).
    private static void EmitAtomic(EmitContext cx, Instruction insn, int pc)
    {
        var il = cx.Il;
        int op = insn.Imm;
        int src = insn.SrcReg;
        bool fetch = (op & (int)AtomicOp.Fetch) != 0 && op != (int)AtomicOp.CmpXchg;
        if (fetch && src == 10)
        {
            // The interpreter refuses it when it runs, before the access.
            cx.LdI4(pc);
            cx.Throw(JitMethods.FaultFramePointerWrite);
            return;
        }

        int size = insn.AccessBytes;
        bool check = cx.Checked && !FlowInfo.InCurrentFrame(insn.DstReg, insn.Offset, size);
        cx.LdState();
        cx.LdAddress(insn.DstReg, insn.Offset);
        cx.LdReg(src);
        cx.LdReg(0);
        cx.LdI4(op);
        cx.LdI4(pc);
        cx.LdI4(check ? 1 : 0);
        cx.Call(size == 8 ? JitMethods.Atomic64 : JitMethods.Atomic32);
        if (op == (int)AtomicOp.CmpXchg)
        {
            cx.StReg(0);
        }
        else if (fetch)
        {
            cx.StReg(src);
        }
        else
        {
            il.Emit(OpCodes.Pop);
        }
    }

    // LD_ABS / LD_IND: r0 = the big-endian value at packet[offset]; out of bounds ends the program with r0 = 0.
    // The offset is the s32 imm (plus src for IND, truncated to s32) as the kernel's bpf_skb_load_helper takes it.
    private static void EmitLegacyPacketLoad(EmitContext cx, Instruction insn)
    {
        var il = cx.Il;
        cx.LdState();
        if (insn.Mode == MemMode.Ind)
        {
            cx.LdReg(insn.SrcReg);
            cx.LdI8(insn.Imm);
            il.Emit(OpCodes.Add);
            il.Emit(OpCodes.Conv_I4);
            il.Emit(OpCodes.Conv_I8);
        }
        else
        {
            cx.LdI8(insn.Imm);
        }

        cx.LdI4(insn.AccessBytes);
        cx.Call(JitMethods.LdAbs);
        il.Emit(OpCodes.Stloc, cx.Tmp);
        il.Emit(OpCodes.Ldloc, cx.Tmp);
        cx.LdI8(-1);
        il.Emit(OpCodes.Beq, cx.LdAbsFail);
        il.Emit(OpCodes.Ldloc, cx.Tmp);
        cx.StReg(0);
    }

    private static void Unaligned(EmitContext cx, int size, bool aligned)
    {
        if (size > 1 && !aligned)
        {
            cx.Il.Emit(OpCodes.Unaligned, (byte)1);
        }
    }
}
