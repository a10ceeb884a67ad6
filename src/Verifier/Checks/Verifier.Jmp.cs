using VethXdp.Verifier.Domains;
using VethXdp.Verifier.Log;
using VethXdp.Verifier.State;
using VethXdp.Vm.Isa;

namespace VethXdp.Verifier.Checks;

// kernel: the BPF_JMP/BPF_JMP32 part of do_check_insn(), check_cond_jmp_op(), is_branch_taken() for pointers,
// try_match_pkt_pointers(), find_good_pkt_pointers(), mark_ptr_or_null_regs().
internal sealed partial class VerifierEnv
{
    // true when the path ended
    private bool CheckJmpClass(Instruction insn, ref bool doPrintState)
    {
        var op = insn.JmpOp;
        bool jmp32 = insn.Class == OpClass.Jmp32;
        _jmpsProcessed++;
        if (op == JmpOp.Call)
        {
            if (insn.SrcIsReg || (insn.SrcReg != 2 && insn.Offset != 0) ||
                (insn.SrcReg != 0 && insn.SrcReg != 1 && insn.SrcReg != 2) || insn.DstReg != 0 || jmp32)
            {
                Fail(RejectKind.Invalid, Msg.CallReservedFields);
            }

            // kernel do_check: under a lock only bpf_spin_unlock among helpers (and the graph-API kfuncs, which we do not
            // model); BPF-to-BPF calls go on to check_func_call (a global callee is refused there).
            if (_cur.ActiveLockId != 0 && ((insn.SrcReg == 0 && insn.Imm != 94) || insn.SrcReg == 2))
            {
                Fail(RejectKind.Invalid, Msg.FunctionCallsInLock);
            }

            if (insn.SrcReg == 1)
            {
                CheckFuncCall(insn);
                return false;
            }

            if (insn.SrcReg == 2)
            {
                CheckKfuncCall(insn);
                return false;
            }

            CheckHelperCall(insn);
            _insnIdx++;
            return false;
        }

        if (op == JmpOp.Ja)
        {
            if (insn.SrcIsReg || insn.SrcReg != 0 || insn.DstReg != 0 || (!jmp32 && insn.Imm != 0) || (jmp32 && insn.Offset != 0))
            {
                Fail(RejectKind.Invalid, Msg.JaReservedFields);
            }

            _insnIdx += (jmp32 ? insn.Imm : insn.Offset) + 1;
            return false;
        }

        if (op == JmpOp.Exit)
        {
            if (insn.SrcIsReg || insn.Imm != 0 || insn.SrcReg != 0 || insn.DstReg != 0 || jmp32)
            {
                Fail(RejectKind.Invalid, Msg.ExitReservedFields);
            }

            return ProcessExit(ref doPrintState);
        }

        CheckCondJmpOp(insn);
        return false;
    }

    // kernel: check_cond_jmp_op()
    private void CheckCondJmpOp(Instruction insn)
    {
        var op = insn.JmpOp;
        bool is32 = insn.Class == OpClass.Jmp32;
        if (insn.Opcode == 0xe5)
        {
            Fail(RejectKind.NotSupported, Msg.MayGotoUnsupported);
        }

        if ((int)op > 0xd0)
        {
            Fail(RejectKind.Invalid, Msg.InvalidJmpOpcode, (int)op);
        }

        CheckRegRead(insn.DstReg);
        RegState src;
        if (insn.SrcIsReg)
        {
            if (insn.Imm != 0)
            {
                Fail(RejectKind.Invalid, Msg.JmpReservedFields);
            }

            CheckRegRead(insn.SrcReg);
            src = Reg(insn.SrcReg);
        }
        else
        {
            if (insn.SrcReg != 0)
            {
                Fail(RejectKind.Invalid, Msg.JmpReservedFields);
            }

            src = RegState.KnownScalar((ulong)(long)insn.Imm);
        }

        var dst = Reg(insn.DstReg);
        int pred = IsBranchTaken(dst, src, op, is32);
        if (pred >= 0)
        {
            // the branch was decided by the operands' values: they must be precise
            if (dst.Type == RegType.Scalar)
            {
                MarkChainPrecision(insn.DstReg);
            }

            if (insn.SrcIsReg && src.Type == RegType.Scalar)
            {
                MarkChainPrecision(insn.SrcReg);
            }
        }

        if (pred == 1)
        {
            // only follow the goto
            if (_log.IsLevel1Or2)
            {
                PrintInsnState();
            }

            _insnIdx += insn.Offset + 1;
            return;
        }

        if (pred == 0)
        {
            if (_log.IsLevel1Or2)
            {
                PrintInsnState();
            }

            _insnIdx++;
            return;
        }

        RecordLinkedRegs(insn);
        var other = PushBranch(_insnIdx + insn.Offset + 1, _insnIdx);
        var otherRegs = other.Cur;
        var thisRegs = _cur.Cur;

        // reg_set_min_max(): both edges refine scalar operands
        if (dst.Type == RegType.Scalar && src.Type == RegType.Scalar)
        {
            var t1 = dst.Bounds;
            var t2 = src.Bounds;
            var f1 = dst.Bounds;
            var f2 = src.Bounds;
            bool same = insn.SrcIsReg && insn.SrcReg == insn.DstReg;
            if (ScalarBounds.RefineBranch(ref t1, ref t2, ref f1, ref f2, op, is32, same) is { } bug)
            {
                Fail(RejectKind.Invalid, Msg.VerifierBug, bug);
            }

            otherRegs.Regs[insn.DstReg].Bounds = t1;
            thisRegs.Regs[insn.DstReg].Bounds = f1;
            if (insn.SrcIsReg)
            {
                otherRegs.Regs[insn.SrcReg].Bounds = t2;
                thisRegs.Regs[insn.SrcReg].Bounds = f2;
                SyncLinkedRegs(_cur, thisRegs.Regs[insn.SrcReg]);
                SyncLinkedRegs(other, otherRegs.Regs[insn.SrcReg]);
            }

            SyncLinkedRegs(_cur, thisRegs.Regs[insn.DstReg]);
            SyncLinkedRegs(other, otherRegs.Regs[insn.DstReg]);
        }

        if (!is32 && !insn.SrcIsReg && insn.Imm == 0 && op is JmpOp.Jeq or JmpOp.Jne && dst.MaybeNull)
        {
            // R == 0 where R may be NULL: mark every copy of it in each branch as NULL or not
            MarkPtrOrNullRegs(_cur, insn.DstReg, isNull: op == JmpOp.Jne);
            MarkPtrOrNullRegs(other, insn.DstReg, isNull: op == JmpOp.Jeq);
        }
        else if (!is32 && insn.SrcIsReg && src.IsPointer && dst.IsPointer && src.MaybeNull != dst.MaybeNull &&
                 op is JmpOp.Jeq or JmpOp.Jne && src.Type != RegType.PtrToBtfId && dst.Type != RegType.PtrToBtfId)
        {
            // A maybe-NULL pointer equal to a non-NULL one is not NULL on that edge.
            int nullable = src.MaybeNull ? insn.SrcReg : insn.DstReg;
            var eqBranch = op == JmpOp.Jeq ? other : _cur;
            MarkPtrNotNullOne(eqBranch, nullable);
        }
        else
        {
            TryMatchPktPointers(insn, dst, src, _cur, other);
        }

        if (_log.IsLevel1Or2)
        {
            PrintInsnState();
        }

        _insnIdx++;
    }

    private void MarkPtrNotNullOne(VerifierState vs, int regno)
    {
        int id = vs.Cur.Regs[regno].Id;
        ForEachReg(vs, (ref RegState r) =>
        {
            if (r.MaybeNull && r.Id == id)
            {
                MarkPtrNotNullReg(ref r);
            }
        });
    }

    // kernel: sync_linked_regs(): the scalars collected as linked at this jump (RecordLinkedRegs) learn the bounds the
    // jump gave known: a copy takes them as they are, "known + K" (BPF_ADD_CONST, K in Off) takes them shifted by the
    // difference of the two constants. The copy keeps its own Off (and its id takes known's, flag included, as
    // copy_register_state() leaves it).
    private void SyncLinkedRegs(VerifierState vs, RegState known)
    {
        if (known.Type != RegType.Scalar || known.Id == 0)
        {
            return;
        }

        for (int i = 0; i < _linkedCnt; i++)
        {
            var e = _linked[i];
            var frame = vs.Frames[e.Frame]!;
            ref var reg = ref e.IsReg ? ref frame.Regs[e.Index] : ref frame.Stack[e.Index].Spilled;
            if (reg.Type != RegType.Scalar || reg.BaseId != known.BaseId)
            {
                continue;
            }

            bool noConst = (reg.Id & RegState.AddConst) == 0 && (known.Id & RegState.AddConst) == 0;
            if (noConst || reg.Off == known.Off)
            {
                reg = known;
            }
            else
            {
                // reg = known; reg += delta, keeping reg's own id and constant so that later jumps still link it
                int savedOff = reg.Off, savedId = reg.Id;
                int delta = savedOff - known.Off;
                reg = known;
                reg.Off = savedOff;
                reg.Id = savedId;
                AddKnownDelta(ref reg.Bounds, delta);
                reg.Bounds.Sync();
            }
        }
    }

    // scalar32_min_max_add(), scalar_min_max_add() and tnum_add() of the known constant delta (the caller adds
    // reg_bounds_sync(), as 6.18.44 does: the printed var_off shows it)
    private static void AddKnownDelta(ref ScalarBounds b, int delta)
    {
        // 32-bit signed: both ends move, or the range is unknown if either end overflows
        long s32Min = (long)b.S32Min + delta, s32Max = (long)b.S32Max + delta;
        if (s32Min != (int)s32Min || s32Max != (int)s32Max)
        {
            b.S32Min = int.MinValue;
            b.S32Max = int.MaxValue;
        }
        else
        {
            b.S32Min = (int)s32Min;
            b.S32Max = (int)s32Max;
        }

        // unsigned: if only the upper end wraps, the range covers the whole domain
        uint d32 = unchecked((uint)delta);
        uint u32Min = unchecked(b.U32Min + d32), u32Max = unchecked(b.U32Max + d32);
        bool u32MinOverflow = u32Min < b.U32Min, u32MaxOverflow = u32Max < b.U32Max;
        b.U32Min = u32Min;
        b.U32Max = u32Max;
        if (!u32MinOverflow && u32MaxOverflow)
        {
            b.U32Min = 0;
            b.U32Max = uint.MaxValue;
        }

        long d64 = delta;
        long sMin = unchecked(b.SMin + d64), sMax = unchecked(b.SMax + d64);
        if (((b.SMin ^ sMin) & (d64 ^ sMin)) < 0 || ((b.SMax ^ sMax) & (d64 ^ sMax)) < 0)
        {
            b.SMin = long.MinValue;
            b.SMax = long.MaxValue;
        }
        else
        {
            b.SMin = sMin;
            b.SMax = sMax;
        }

        ulong du = unchecked((ulong)d64);
        ulong uMin = unchecked(b.UMin + du), uMax = unchecked(b.UMax + du);
        bool uMinOverflow = uMin < b.UMin, uMaxOverflow = uMax < b.UMax;
        b.UMin = uMin;
        b.UMax = uMax;
        if (!uMinOverflow && uMaxOverflow)
        {
            b.UMin = 0;
            b.UMax = ulong.MaxValue;
        }

        b.VarOff = Tnum.Add(b.VarOff, Tnum.Const(du));
    }

    private delegate void RegAction(ref RegState reg);

    // bpf_for_each_reg_in_vstate(): every register and spilled register of every frame
    private static void ForEachReg(VerifierState vs, RegAction action)
    {
        for (int f = 0; f <= vs.CurFrame; f++)
        {
            var fr = vs.Frames[f]!;
            for (int i = 0; i < 11; i++)
            {
                action(ref fr.Regs[i]);
            }

            for (int s = 0; s < fr.AllocatedStack / 8; s++)
            {
                if (fr.Stack[s].IsSpill)
                {
                    action(ref fr.Stack[s].Spilled);
                }
            }
        }
    }

    // kernel: is_branch_taken(): 1 taken, 0 not taken, -1 unknown
    private static int IsBranchTaken(in RegState reg1, in RegState reg2, JmpOp op, bool is32)
    {
        if (reg1.IsPktPointerAny() && reg2.IsPktPointerAny() && !is32)
        {
            return IsPktPtrBranchTaken(reg1, reg2, op);
        }

        if (reg1.IsPointer || reg2.IsPointer)
        {
            var p = reg1;
            var s = reg2;
            // arrange that reg2 is a scalar, and reg1 is a pointer
            if (!IsRegConst(s, is32))
            {
                op = ScalarBounds.FlipOpcode(op);
                (p, s) = (s, p);
            }

            if (!IsRegConst(s, is32) || !RegNotNull(p))
            {
                return -1;
            }

            ulong val = is32 ? Tnum.Subreg(s.Bounds.VarOff).Value : s.Bounds.VarOff.Value;
            if (val != 0)
            {
                return -1;
            }

            return op switch { JmpOp.Jeq => 0, JmpOp.Jne => 1, _ => -1 };
        }

        return ScalarBounds.IsBranchTaken(reg1.Bounds, reg2.Bounds, op, is32) switch
        {
            BranchOutcome.Always => 1,
            BranchOutcome.Never => 0,
            _ => -1,
        };
    }

    private static bool IsRegConst(in RegState r, bool is32) =>
        r.Type == RegType.Scalar && (is32 ? r.Bounds.VarOff.SubregIsConst : r.Bounds.VarOff.IsConst);

    // kernel: reg_not_null()
    private static bool RegNotNull(in RegState r)
    {
        if (r.MaybeNull)
        {
            return false;
        }

        return r.Type is RegType.PtrToSocket or RegType.PtrToTcpSock or RegType.PtrToMapValue or RegType.PtrToMapKey or
            RegType.PtrToSockCommon or RegType.ConstPtrToMap ||
            (r.Type == RegType.PtrToMem && (r.Flags & RegTypeFlags.PtrUntrusted) == 0) ||
            (r.Type == RegType.PtrToBtfId && IsTrustedReg(r));
    }

    // kernel: is_pkt_ptr_branch_taken()
    private static int IsPktPtrBranchTaken(in RegState dst, in RegState src, JmpOp op)
    {
        RegState pkt;
        if (src.Type == RegType.PtrToPacketEnd)
        {
            pkt = dst;
        }
        else if (dst.Type == RegType.PtrToPacketEnd)
        {
            pkt = src;
            op = ScalarBounds.FlipOpcode(op);
        }
        else
        {
            return -1;
        }

        if (pkt.Range >= 0)
        {
            return -1;
        }

        switch (op)
        {
            case JmpOp.Jle:
            case JmpOp.Jgt:
                if (pkt.Range == BeyondPktEnd)
                {
                    return op == JmpOp.Jgt ? 1 : 0;
                }

                break;
            case JmpOp.Jlt:
            case JmpOp.Jge:
                if (pkt.Range is BeyondPktEnd or AtPktEnd)
                {
                    return op == JmpOp.Jge ? 1 : 0;
                }

                break;
        }

        return -1;
    }

    // kernel: try_match_pkt_pointers(); this = fall-through, other = jump target
    private static void TryMatchPktPointers(Instruction insn, in RegState dst, in RegState src, VerifierState thisBranch,
        VerifierState otherBranch)
    {
        if (!insn.SrcIsReg || insn.Class == OpClass.Jmp32)
        {
            return;
        }

        bool dstPktSrcEnd = (dst.Type == RegType.PtrToPacket && src.Type == RegType.PtrToPacketEnd) ||
                            (dst.Type == RegType.PtrToPacketMeta && IsInitPktPointer(src, RegType.PtrToPacket));
        bool dstEndSrcPkt = (dst.Type == RegType.PtrToPacketEnd && src.Type == RegType.PtrToPacket) ||
                            (IsInitPktPointer(dst, RegType.PtrToPacket) && src.Type == RegType.PtrToPacketMeta);
        int d = insn.DstReg, s = insn.SrcReg;
        switch (insn.JmpOp)
        {
            case JmpOp.Jgt:
                if (dstPktSrcEnd)
                {
                    // pkt_data' > pkt_end, pkt_meta' > pkt_data
                    FindGoodPktPointers(thisBranch, dst, false);
                    MarkPktEnd(otherBranch, d, true);
                }
                else if (dstEndSrcPkt)
                {
                    // pkt_end > pkt_data', pkt_data > pkt_meta'
                    FindGoodPktPointers(otherBranch, src, true);
                    MarkPktEnd(thisBranch, s, false);
                }

                break;
            case JmpOp.Jlt:
                if (dstPktSrcEnd)
                {
                    FindGoodPktPointers(otherBranch, dst, true);
                    MarkPktEnd(thisBranch, d, false);
                }
                else if (dstEndSrcPkt)
                {
                    FindGoodPktPointers(thisBranch, src, false);
                    MarkPktEnd(otherBranch, s, true);
                }

                break;
            case JmpOp.Jge:
                if (dstPktSrcEnd)
                {
                    FindGoodPktPointers(thisBranch, dst, true);
                    MarkPktEnd(otherBranch, d, false);
                }
                else if (dstEndSrcPkt)
                {
                    FindGoodPktPointers(otherBranch, src, false);
                    MarkPktEnd(thisBranch, s, true);
                }

                break;
            case JmpOp.Jle:
                if (dstPktSrcEnd)
                {
                    FindGoodPktPointers(otherBranch, dst, false);
                    MarkPktEnd(thisBranch, d, true);
                }
                else if (dstEndSrcPkt)
                {
                    FindGoodPktPointers(thisBranch, src, true);
                    MarkPktEnd(otherBranch, s, false);
                }

                break;
        }
    }

    private static bool IsInitPktPointer(in RegState r, RegType t) =>
        r.Type == t && r.Off == 0 && r.Bounds.VarOff.IsConst && r.Bounds.VarOff.Value == 0;

    // kernel: find_good_pkt_pointers()
    private static void FindGoodPktPointers(VerifierState vs, RegState dst, bool rangeRightOpen)
    {
        if (dst.Off < 0 || (dst.Off == 0 && rangeRightOpen))
        {
            return; // no range learned
        }

        if (dst.Bounds.UMax > MaxPacketOff || dst.Bounds.UMax + (ulong)(long)dst.Off > MaxPacketOff)
        {
            return; // risk of overflow
        }

        int newRange = dst.Off + (rangeRightOpen ? 1 : 0);
        var type = dst.Type;
        int id = dst.Id;
        ForEachReg(vs, (ref RegState r) =>
        {
            if (r.Type == type && r.Id == id)
            {
                // keep the maximum range already checked
                r.Range = Math.Max(r.Range, newRange);
            }
        });
    }

    // kernel: mark_pkt_end()
    private static void MarkPktEnd(VerifierState vs, int regno, bool rangeOpen)
    {
        ref var r = ref vs.Cur.Regs[regno];
        if (r.Type != RegType.PtrToPacket)
        {
            return;
        }

        r.Range = rangeOpen ? BeyondPktEnd : AtPktEnd;
    }

    // kernel: mark_ptr_or_null_regs()
    private void MarkPtrOrNullRegs(VerifierState vs, int regno, bool isNull)
    {
        var reg = vs.Cur.Regs[regno];
        int id = reg.Id;
        int refObjId = reg.RefObjId;
        if (refObjId != 0 && refObjId == id && isNull)
        {
            // in the == NULL branch nothing was acquired
            vs.Refs.RemoveAll(r => r.Id == id);
        }

        ForEachReg(vs, (ref RegState r) =>
        {
            if (!r.MaybeNull || r.Id != id)
            {
                return;
            }

            if (isNull)
            {
                r = RegState.KnownScalar(0);
                return;
            }

            bool keepId = r.Type == RegType.PtrToMapValue && (uint)r.MapIndex < (uint)Maps.Count &&
                          Maps[r.MapIndex].SpinLockOffset >= 0;
            MarkPtrNotNullReg(ref r);
            if (!keepId)
            {
                r.Id = 0;
            }
        });
    }

    // kernel: mark_ptr_not_null_reg()
    private void MarkPtrNotNullReg(ref RegState r)
    {
        if (r.Type == RegType.PtrToMapValue && (uint)r.MapIndex < (uint)Maps.Count)
        {
            var map = Maps[r.MapIndex];
            r.Flags &= ~RegTypeFlags.MaybeNull;
            if (map.InnerMap is not null && map.Type is Vm.Maps.MapType.ArrayOfMaps or Vm.Maps.MapType.HashOfMaps)
            {
                r.Type = RegType.ConstPtrToMap;
                r.MapIndex = InnerMapIndex(r.MapIndex);
            }
            else if (map.Type == Vm.Maps.MapType.Xskmap)
            {
                r.Type = RegType.PtrToXdpSock;
            }
            else if (map.Type is Vm.Maps.MapType.Sockmap or Vm.Maps.MapType.Sockhash)
            {
                r.Type = RegType.PtrToSocket;
            }

            return;
        }

        r.Flags &= ~RegTypeFlags.MaybeNull;
    }
}

internal static class RegStateExtensions
{
    /// <summary>reg_is_pkt_pointer_any(): pkt, pkt_meta or pkt_end.</summary>
    public static bool IsPktPointerAny(this in RegState r) =>
        r.Type is RegType.PtrToPacket or RegType.PtrToPacketMeta or RegType.PtrToPacketEnd;
}
