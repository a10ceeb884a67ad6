using VethXdp.Verifier.Helpers;
using VethXdp.Verifier.Log;
using VethXdp.Verifier.State;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Checks;

// kernel: dynptrs on the stack (process_dynptr_func, mark_stack_slots_dynptr, unmark_stack_slots_dynptr,
// destroy_if_dynptr_stack_slot) and the kfuncs XDP programs may call (check_kfunc_call for bpf_dynptr_from_xdp,
// bpf_dynptr_slice[_rdwr] and the device-bound metadata kfuncs).
internal sealed partial class VerifierEnv
{
    private const RegTypeFlags DynptrTypeMask = RegTypeFlags.DynptrTypeLocal | RegTypeFlags.DynptrTypeRingbuf |
        RegTypeFlags.DynptrTypeSkb | RegTypeFlags.DynptrTypeXdp | RegTypeFlags.DynptrTypeSkbMeta;

    private static string DynptrTypeText(RegTypeFlags t) => (t & DynptrTypeMask) switch
    {
        RegTypeFlags.DynptrTypeLocal => "local",
        RegTypeFlags.DynptrTypeRingbuf => "ringbuf",
        RegTypeFlags.DynptrTypeSkb => "skb",
        RegTypeFlags.DynptrTypeXdp => "xdp",
        RegTypeFlags.DynptrTypeSkbMeta => "skb_meta",
        _ => "<invalid>",
    };

    // kernel: dynptr_get_spi(): the dynptr's lower slot index, or a rejection
    private int DynptrGetSpi(in RegState reg)
    {
        if (!reg.Bounds.VarOff.IsConst)
        {
            Fail(RejectKind.Invalid, "dynptr has to be at a constant offset");
        }

        int off = reg.Off + (int)(long)reg.Bounds.VarOff.Value;
        int spi = (-off - 1) / 8;
        if (off % 8 != 0 || spi < 1)
        {
            Fail(RejectKind.Invalid, "cannot pass in dynptr at an offset={0}", off);
        }

        if (spi >= FuncState.MaxSlots)
        {
            Fail(RejectKind.Invalid, "cannot pass in dynptr at an offset={0}", off);
        }

        return spi;
    }

    private static bool IsDynptrSlot(in StackSlot st) => st.Types[0] == SlotType.Dynptr;

    // kernel: process_dynptr_func(); argIndex is the argument number the kernel prints (regno - 1)
    private void ProcessDynptrFunc(int regno, RegTypeFlags argFlags, bool uninit, bool rdonly, int argIndex,
        ref int initializedDynptrId, ref RegTypeFlags initializedType, ref int dynptrRefObjId)
    {
        var reg = Reg(regno);
        if (reg.Type is not (RegType.PtrToStack or RegType.ConstPtrToDynptr))
        {
            Fail(RejectKind.Invalid, "arg#{0} expected pointer to stack or const struct bpf_dynptr", argIndex);
        }

        var wantType = argFlags & DynptrTypeMask;
        if (uninit)
        {
            if (reg.Type != RegType.PtrToStack)
            {
                Fail(RejectKind.Invalid, "Dynptr has to be an uninitialized dynptr");
            }

            int spi = DynptrGetSpi(reg);
            var state = _cur.Frames[reg.Frameno]!;
            // is_dynptr_reg_valid_uninit(): a dynptr may be re-initialised only if it holds no reference
            state.GrowStack((spi + 1) * 8);
            for (int s = spi; s >= spi - 1; s--)
            {
                if (IsDynptrSlot(state.Stack[s]) && state.Stack[s].Spilled.RefObjId != 0)
                {
                    Fail(RejectKind.Invalid, "Dynptr has to be an uninitialized dynptr");
                }
            }

            // we write BPF_DW bits (8 bytes) at a time
            for (int i = 0; i < 16; i += 8)
            {
                CheckMemAccess(regno, i, 8, Access.Write, -1, strictOnce: false, isLdsx: false);
            }

            MarkStackSlotsDynptr(state, spi, wantType);
            return;
        }

        if (reg.Type == RegType.ConstPtrToDynptr)
        {
            if (!rdonly)
            {
                Fail(RejectKind.Invalid, "cannot pass pointer to const bpf_dynptr, the helper mutates it");
            }

            initializedDynptrId = reg.Id;
            initializedType = reg.Flags & DynptrTypeMask;
            dynptrRefObjId = reg.RefObjId;
            return;
        }

        {
            int spi = DynptrGetSpi(reg);
            var state = _cur.Frames[reg.Frameno]!;
            bool valid = spi < state.AllocatedStack / 8 && IsDynptrSlot(state.Stack[spi]) &&
                         IsDynptrSlot(state.Stack[spi - 1]) && state.Stack[spi - 1].Spilled.DynptrFirstSlot;
            if (!valid)
            {
                Fail(RejectKind.Invalid, "Expected an initialized dynptr as arg #{0}", argIndex);
            }

            var first = state.Stack[spi - 1].Spilled;
            var have = first.Flags & DynptrTypeMask;
            if (wantType != 0 && have != wantType)
            {
                Fail(RejectKind.Invalid, "Expected a dynptr of type {0} as arg #{1}", DynptrTypeText(wantType), argIndex);
            }

            // mark_dynptr_read() -> mark_stack_slot_obj_read()
            MarkStackRead(reg.Frameno, spi);
            MarkStackRead(reg.Frameno, spi - 1);

            MarkStackScratched(spi);
            MarkStackScratched(spi - 1);
            initializedDynptrId = first.Id;
            initializedType = have;
            dynptrRefObjId = first.RefObjId;
        }
    }

    // kernel: mark_stack_slots_dynptr()
    private void MarkStackSlotsDynptr(FuncState state, int spi, RegTypeFlags type)
    {
        int id = NewId();
        int refObjId = 0;
        if (type == RegTypeFlags.DynptrTypeRingbuf)
        {
            refObjId = NewId();
            _cur.Refs.Add(new RefState(refObjId, _insnIdx, RefKind.Ptr));
        }

        for (int s = spi; s >= spi - 1; s--)
        {
            ref var st = ref state.Stack[s];
            for (int i = 0; i < 8; i++)
            {
                st.Types[i] = SlotType.Dynptr;
            }

            st.Spilled = RegState.Pointer(RegType.ConstPtrToDynptr, type);
            st.Spilled.Id = id;
            st.Spilled.RefObjId = refObjId;
            st.Spilled.DynptrFirstSlot = s == spi - 1;
            MarkStackScratched(s);
        }

        MarkStackWrite(state.Frameno, spi);
        MarkStackWrite(state.Frameno, spi - 1);
    }

    // kernel: unmark_stack_slots_dynptr() for a release (submit/discard)
    private void ReleaseDynptr(int regno)
    {
        var reg = Reg(regno);
        int spi = DynptrGetSpi(reg);
        var state = _cur.Frames[reg.Frameno]!;
        int refObjId = state.Stack[spi].Spilled.RefObjId;
        if (refObjId == 0)
        {
            Fail(RejectKind.Invalid, "arg {0} is an unacquired reference", regno);
        }

        ReleaseReference(refObjId);
        for (int s = spi; s >= spi - 1; s--)
        {
            ref var st = ref state.Stack[s];
            for (int i = 0; i < 8; i++)
            {
                st.Types[i] = SlotType.Invalid;
            }

            st.Spilled = RegState.NotInit;
            MarkStackScratched(s);
        }

        MarkStackWrite(state.Frameno, spi); // invalidate_dynptr()
        MarkStackWrite(state.Frameno, spi - 1);
    }

    // kernel: destroy_if_dynptr_stack_slot(): a store over a dynptr destroys it (refused for a referenced one)
    private void DestroyIfDynptrStackSlot(FuncState state, int spi)
    {
        if (spi >= state.AllocatedStack / 8 || !IsDynptrSlot(state.Stack[spi]))
        {
            return;
        }

        int first = state.Stack[spi].Spilled.DynptrFirstSlot ? spi : spi + 1;
        if (state.Stack[first].Spilled.RefObjId != 0)
        {
            Fail(RejectKind.Invalid, "cannot overwrite referenced dynptr");
        }

        for (int s = first; s >= first - 1; s--)
        {
            ref var st = ref state.Stack[s];
            for (int i = 0; i < 8; i++)
            {
                st.Types[i] = SlotType.Invalid;
            }

            st.Spilled = RegState.NotInit;
            MarkStackScratched(s);
        }

        MarkStackWrite(state.Frameno, first);
        MarkStackWrite(state.Frameno, first - 1);
    }

    // kernel: check_kfunc_call() for the kfuncs an XDP program may call
    private void CheckKfuncCall(Instruction insn)
    {
        var id = (KfuncId)insn.Imm;
        string name = Kfuncs.NameOf(id);
        if (id == KfuncId.None || name == "unknown")
        {
            Fail(RejectKind.NotSupported, Msg.KfuncUnknown, $"(btf id {insn.Imm})");
        }

        if (Prog.Type != ProgramType.Xdp)
        {
            Fail(RejectKind.Access, "calling kernel function {0} is not allowed", name);
        }

        if (CheckObjKfuncCall(id))
        {
            _insnIdx++; // the allocation kfuncs (Verifier.Kptr.cs)
            return;
        }

        if (Kfuncs.NeedsDevice(id) && !Prog.DeviceBound)
        {
            Fail(RejectKind.Invalid, "metadata kfuncs require device-bound program");
        }

        int dynId = 0, dynRef = 0;
        RegTypeFlags dynType = 0;
        var meta = new CallMeta { MapIndex = -1, ConstMapKey = -1, Subprogno = -1 };
        switch (id)
        {
            case KfuncId.DynptrFromXdp:
                CheckRegRead(1);
                CheckRegRead(2);
                CheckRegRead(3);
                if (Reg(1).Type != RegType.PtrToCtx)
                {
                    Fail(RejectKind.Invalid, "arg#0 expected pointer to ctx, but got {0}", RegTypeText(Reg(1)));
                }

                CheckPtrOffReg(Reg(1), 1, fixedOffOk: false);
                if (Reg(2).Type != RegType.Scalar)
                {
                    Fail(RejectKind.Invalid, "R2 is not a scalar");
                }

                ProcessDynptrFunc(3, RegTypeFlags.DynptrTypeXdp, uninit: true, rdonly: false, 2, ref dynId, ref dynType, ref dynRef);
                break;
            case KfuncId.DynptrSlice:
            case KfuncId.DynptrSliceRdwr:
                for (int r = 1; r <= 4; r++)
                {
                    CheckRegRead(r);
                }

                ProcessDynptrFunc(1, 0, uninit: false, rdonly: true, 0, ref dynId, ref dynType, ref dynRef);
                if (Reg(2).Type != RegType.Scalar)
                {
                    Fail(RejectKind.Invalid, "R2 is not a scalar");
                }

                if (Reg(4).Type != RegType.Scalar || !Reg(4).Bounds.VarOff.IsConst)
                {
                    Fail(RejectKind.Invalid, "R4 must be a known constant");
                }

                MarkChainPrecision(4);
                int size = (int)Reg(4).Bounds.VarOff.Value;
                if (!Reg(3).IsNull)
                {
                    CheckHelperMemAccess(3, size, write: true, zeroSizeAllowed: true, ref meta, raw: false);
                }

                meta.MemSize = size;
                break;
            default:
            {
                // the metadata kfuncs: (ctx, out pointers...) -> int
                CheckRegRead(1);
                if (Reg(1).Type != RegType.PtrToCtx)
                {
                    Fail(RejectKind.Invalid, "arg#0 expected pointer to ctx, but got {0}", RegTypeText(Reg(1)));
                }

                int[] sizes = id switch
                {
                    KfuncId.XdpMetadataRxTimestamp => [8],
                    KfuncId.XdpMetadataRxHash => [4, 4],
                    _ => [2, 2],
                };
                for (int a = 0; a < sizes.Length; a++)
                {
                    CheckRegRead(2 + a);
                    CheckHelperMemAccess(2 + a, sizes[a], write: true, zeroSizeAllowed: false, ref meta, raw: true);
                    for (int i = 0; i < meta.AccessSize; i++)
                    {
                        CheckMemAccess(meta.RawRegno, i, 1, Access.Write, -1, strictOnce: false, isLdsx: false);
                    }

                    meta.AccessSize = 0;
                }

                break;
            }
        }

        for (int i = 0; i <= 5; i++)
        {
            Reg(i) = RegState.NotInit;
            MarkRegScratched(i);
        }

        if (id is KfuncId.DynptrSlice or KfuncId.DynptrSliceRdwr)
        {
            var flags = dynType | RegTypeFlags.MaybeNull;
            if (id == KfuncId.DynptrSlice)
            {
                flags |= RegTypeFlags.MemRdonly;
            }
            else if (!(Prog.Ctx?.MayAccessDirectPacketData(Context.CtxAccessType.Write) ?? false))
            {
                Fail(RejectKind.Invalid, "the prog does not allow writes to packet data");
            }

            ref var r0 = ref Reg(0);
            r0 = RegState.Pointer(RegType.PtrToMem, flags);
            r0.MemSize = meta.MemSize;
            r0.DynptrId = dynId;
            r0.Id = NewId();
        }
        else
        {
            Reg(0) = RegState.UnknownScalar;
        }

        _insnIdx++;
    }
}
