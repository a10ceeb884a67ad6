using VethXdp.Verifier.State;
using VethXdp.Vm.Btf;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Checks;

/// <summary>Objects the program allocates and keeps in map values (kptrs): the allocation kfuncs
/// (<c>bpf_obj_new_impl</c>, <c>bpf_percpu_obj_new_impl</c> and their drops), <c>bpf_kptr_xchg</c>, the per-CPU
/// accessors on a per-CPU object, loads and stores at a map value's <c>__kptr</c> / <c>__percpu_kptr</c> fields, and
/// accesses into an object.</summary>
/// <remarks>
/// The object's type lives in the program's BTF (a "local" type): a register pointing to one is PTR_TO_BTF_ID with
/// MEM_ALLOC (the object the program owns: obj_new's and kptr_xchg's result, or the per-CPU copy bpf_per_cpu_ptr
/// gives) or with MEM_RCU (read back from the map; MEM_PERCPU for a <c>__percpu_kptr</c>), and
/// <see cref="RegState.BtfType"/> names the struct. Its size comes from the program's BTF by that name.
/// Soundness: an owned object is reachable only through a register whose reference (ref_obj_id) is live; releasing
/// it (drop, or handing it to the map with kptr_xchg) turns every copy into an unknown scalar, so no access follows a
/// free. Every access stays inside [0, size) of the struct, so a read or write never leaves the object.
/// </remarks>
internal sealed partial class VerifierEnv
{
    private const int FuncPerCpuPtr = 153, FuncThisCpuPtr = 154, FuncKptrXchg = 194;

    /// <summary>BPF_GLOBAL_PERCPU_MA_MAX_SIZE: the largest per-CPU object.</summary>
    private const int PercpuObjMaxSize = 512;

    /// <summary>The flags a register to a local object may have and still be trusted
    /// (BPF_REG_TRUSTED_MODIFIERS).</summary>
    private const RegTypeFlags TrustedModifiers = RegTypeFlags.MemAlloc | RegTypeFlags.PtrTrusted | RegTypeFlags.NonOwnRef;

    // meta->kptr_field of the helper call being checked (bpf_kptr_xchg's destination), and meta->ret_btf of
    // bpf_per_cpu_ptr / bpf_this_cpu_ptr (R1's type, and whether it was MEM_RCU).
    private KptrField? _kptrField;
    private string? _percpuArgType;
    private bool _percpuArgRcu;

    // prog->aux->btf: the program's own BTF (the object's .BTF), where local types live.
    private BtfSpec? ProgBtf
    {
        get
        {
            var functions = Functions;
            for (int i = 0; i < functions.Count; i++)
            {
                if (functions[i].Btf is { } btf)
                {
                    return btf;
                }
            }

            return null;
        }
    }

    // kernel: is_trusted_reg(): a referenced register, or one whose only flags are the trusted ones
    private static bool IsTrustedReg(in RegState r)
    {
        if (r.RefObjId != 0)
        {
            return true;
        }

        return (r.Flags & TrustedModifiers) != 0 && (r.Flags & ~TrustedModifiers) == 0;
    }

    /// <summary>True for a register to an object of a local type (obj_new's, kptr_xchg's, a kptr read from a map, a
    /// per-CPU copy).</summary>
    private bool IsLocalObject(in RegState r)
    {
        if (r.Type != RegType.PtrToBtfId || r.BtfType is null)
        {
            return false;
        }

        if ((r.Flags & (RegTypeFlags.MemAlloc | RegTypeFlags.MemPercpu)) != 0)
        {
            return true;
        }

        return ProgBtf?.FindByName(r.BtfType, BtfKind.Struct) is not null && KptrTypeInMaps(r.BtfType);
    }

    private bool KptrTypeInMaps(string name)
    {
        for (int m = 0; m < Maps.Count; m++)
        {
            var fields = Maps[m].KptrFields;
            for (int i = 0; i < fields.Count; i++)
            {
                if (fields[i].TypeName == name)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static KptrField? FindKptrField(MapSpec map, long off)
    {
        var fields = map.KptrFields;
        for (int i = 0; i < fields.Count; i++)
        {
            if (fields[i].Offset == off)
            {
                return fields[i];
            }
        }

        return null;
    }

    // btf_field_type_name()
    private static string KptrFieldTypeName(KptrField f) => f.Percpu ? "percpu_kptr" : "kptr";

    // kernel: check_map_access(): the loop over the value's special fields, for its kptrs (the spin lock is checked
    // by the caller). A load or store that touches a kptr must be a direct, constant-offset, aligned 8-byte access.
    private void CheckMapAccessKptrFields(in RegState reg, MapSpec map, int off, int size, bool helper)
    {
        var fields = map.KptrFields;
        for (int i = 0; i < fields.Count; i++)
        {
            var f = fields[i];
            long lo = reg.Bounds.SMin + off, hi = (long)reg.Bounds.UMax + off + size;
            if (!(lo < f.Offset + KptrField.FieldSize && f.Offset < hi))
            {
                continue;
            }

            string name = KptrFieldTypeName(f);
            if (helper)
            {
                Fail(RejectKind.Access, "{0} cannot be accessed indirectly by helper", name);
            }

            if (!reg.Bounds.VarOff.IsConst)
            {
                Fail(RejectKind.Access, "{0} access cannot have variable offset", name);
            }

            long at = off + (long)reg.Bounds.VarOff.Value;
            if (f.Offset != at)
            {
                Fail(RejectKind.Access, "{0} access misaligned expected={1} off={2}", name, f.Offset, at);
            }

            if (size != KptrField.FieldSize)
            {
                Fail(RejectKind.Access, "{0} access size must be BPF_DW", name);
            }
        }
    }

    /// <summary>The kptr field a direct access to a map value touches (at a constant offset), or null.</summary>
    private KptrField? MapKptrFieldAt(in RegState reg, int off) =>
        reg.Bounds.VarOff.IsConst && (uint)reg.MapIndex < (uint)Maps.Count
            ? FindKptrField(MapOf(reg), off + (long)reg.Bounds.VarOff.Value)
            : null;

    // kernel: check_map_kptr_access(): only a BPF_MEM load of the pointer (it comes back maybe NULL, under RCU), or
    // (for an unreferenced kptr, which these local types never are) a store
    private void CheckMapKptrAccess(int valueRegno, KptrField field)
    {
        var insn = _insns[_insnIdx];
        if (insn.Mode != MemMode.Mem)
        {
            Fail(RejectKind.Access, "kptr in map can only be accessed using BPF_MEM instruction mode");
        }

        if (insn.Class != OpClass.Ldx)
        {
            // __kptr and __percpu_kptr are both referenced: only bpf_kptr_xchg changes them
            Fail(RejectKind.Access, "store to referenced kptr disallowed");
        }

        // mark_btf_ld_reg() with btf_ld_kptr_type(): an XDP program is never sleepable, so it is always in an RCU
        // read-side section and the pointer is RCU-protected
        ref var v = ref Reg(valueRegno);
        var flags = RegTypeFlags.MaybeNull | RegTypeFlags.MemRcu;
        flags |= field.Percpu ? RegTypeFlags.MemPercpu : RegTypeFlags.MemAlloc;
        v = RegState.Pointer(RegType.PtrToBtfId, flags);
        v.BtfType = field.TypeName;
        v.Id = NewId();
    }

    // kernel: check_ptr_to_btf_access() for a local type, with btf_struct_access() / btf_struct_walk(): any access
    // inside the struct; a read gives an unknown scalar.
    private void CheckLocalObjectAccess(int regno, in RegState reg, int off, int size, Access t, int valueRegno)
    {
        string tname = reg.BtfType ?? string.Empty;
        if (off < 0)
        {
            Fail(RejectKind.Access, "R{0} is ptr_{1} invalid negative access: off={2}", regno, tname, off);
        }

        if (!reg.Bounds.VarOff.IsConst || reg.Bounds.VarOff.Value != 0)
        {
            Fail(RejectKind.Access, "R{0} is ptr_{1} invalid variable offset: off={2}, var_off={3}", regno, tname, off,
                TnumText(reg.Bounds.VarOff));
        }

        if ((reg.Flags & RegTypeFlags.MemPercpu) != 0)
        {
            Fail(RejectKind.Access, "R{0} is ptr_{1} access percpu memory: off={2}", regno, tname, off);
        }

        if (t == Access.Write && (reg.Flags & RegTypeFlags.MemAlloc) == 0)
        {
            Fail(RejectKind.Access, "only read is supported");
        }

        long structSize = ProgBtf?.FindByName(tname, BtfKind.Struct) is BtfComposite c ? c.Size : 0;
        if ((long)off + size > structSize)
        {
            Fail(RejectKind.Access, "access beyond struct {0} at off {1} size {2}", tname, off, size);
        }

        if (t == Access.Read && valueRegno >= 0)
        {
            MarkRegUnknown(ref Reg(valueRegno));
        }
    }

    // kernel: check_kfunc_call() / check_kfunc_args() / the special-kfunc handling for bpf_obj_new_impl,
    // bpf_percpu_obj_new_impl, bpf_obj_drop_impl and bpf_percpu_obj_drop_impl. Returns false for any other kfunc.
    private bool CheckObjKfuncCall(KfuncId id)
    {
        bool percpu;
        switch (id)
        {
            case KfuncId.ObjNewImpl:
            case KfuncId.PercpuObjNewImpl:
                percpu = id == KfuncId.PercpuObjNewImpl;
                CheckObjNew(percpu);
                return true;
            case KfuncId.ObjDropImpl:
            case KfuncId.PercpuObjDropImpl:
                percpu = id == KfuncId.PercpuObjDropImpl;
                CheckObjDrop(percpu, Kfuncs.NameOf(id));
                return true;
            default:
                return false;
        }
    }

    private void CheckObjNew(bool percpu)
    {
        // arg#0 local_type_id__k: a scalar known to the verifier; arg#1 meta__ign is not looked at
        CheckRegRead(1);
        var r1 = Reg(1);
        if (r1.Type != RegType.Scalar)
        {
            Fail(RejectKind.Invalid, "R1 is not a scalar");
        }

        if (!r1.Bounds.VarOff.IsConst)
        {
            Fail(RejectKind.Invalid, "R1 must be a known constant");
        }

        MarkChainPrecision(1);
        ulong typeId = Reg(1).Bounds.VarOff.Value;
        if (typeId > uint.MaxValue)
        {
            Fail(RejectKind.Invalid, "local type ID argument must be in range [0, U32_MAX]");
        }

        var btf = ProgBtf;
        if (btf is null)
        {
            Fail(RejectKind.Invalid, "bpf_obj_new/bpf_percpu_obj_new requires prog BTF");
        }

        var type = btf.TryGet((uint)typeId) as BtfComposite;
        if (type is null || type.IsUnion)
        {
            Fail(RejectKind.Invalid, "bpf_obj_new/bpf_percpu_obj_new type ID argument must be of a struct");
        }

        if (percpu)
        {
            if (type.Size > PercpuObjMaxSize)
            {
                Fail(RejectKind.Invalid, "bpf_percpu_obj_new type size ({0}) is greater than {1}", type.Size, PercpuObjMaxSize);
            }

            foreach (var m in type.Members)
            {
                if (btf.SkipModsAndTypedefs(m.TypeId, out _) is not (BtfInt or BtfEnum or BtfArray or BtfFloat))
                {
                    Fail(RejectKind.Invalid, "bpf_percpu_obj_new type ID argument must be of a struct of scalars");
                }
            }
        }

        ResetCallerSavedRegs();

        // PTR_TO_BTF_ID | MEM_ALLOC (| MEM_PERCPU), KF_RET_NULL and KF_ACQUIRE: one id for the NULL check, then the
        // reference, which becomes the NULL-check id too
        ref var r0 = ref Reg(0);
        var flags = RegTypeFlags.MemAlloc | RegTypeFlags.MaybeNull;
        if (percpu)
        {
            flags |= RegTypeFlags.MemPercpu;
        }

        r0 = RegState.Pointer(RegType.PtrToBtfId, flags);
        r0.BtfType = type.Name;
        r0.Id = NewId();
        int refId = NewId();
        _cur.Refs.Add(new RefState(refId, _insnIdx, RefKind.Ptr));
        r0.Id = refId;
        r0.RefObjId = refId;
    }

    private void CheckObjDrop(bool percpu, string name)
    {
        // arg#0 p__alloc: KF_ARG_PTR_TO_ALLOC_BTF_ID of a KF_RELEASE kfunc; arg#1 meta__ign is not looked at
        CheckRegRead(1);
        var reg = Reg(1);
        if (reg.IsNull || (reg.IsPointer && reg.MaybeNull))
        {
            Fail(RejectKind.Access, "Possibly NULL pointer passed to trusted arg0");
        }

        // KF_ARG_PTR_TO_ALLOC_BTF_ID of a KF_RELEASE kfunc: the pointer must be owned (a pointer read back from the
        // map, MEM_RCU, is not)
        if (!IsTrustedReg(reg))
        {
            Fail(RejectKind.Invalid, "R1 must be referenced or trusted");
        }

        var expected = RegTypeFlags.MemAlloc | (percpu ? RegTypeFlags.MemPercpu : 0);
        if (reg.Type != RegType.PtrToBtfId || reg.Flags != expected)
        {
            Fail(RejectKind.Invalid, "arg#0 expected for {0}()", name);
        }

        if (reg.RefObjId == 0)
        {
            Fail(RejectKind.Invalid, "allocated object must be referenced");
        }

        if (reg.Off != 0)
        {
            Fail(RejectKind.Invalid, "R1 must have zero offset when passed to release func or trusted arg to kfunc");
        }

        CheckPtrOffReg(reg, 1, fixedOffOk: false);
        ReleaseReference(reg.RefObjId);
        ResetCallerSavedRegs();
        Reg(0) = RegState.NotInit;
    }

    private void ResetCallerSavedRegs()
    {
        for (int i = 0; i <= 5; i++)
        {
            Reg(i) = RegState.NotInit;
            MarkRegScratched(i);
        }
    }

    // kernel: process_kptr_func(): bpf_kptr_xchg's destination is a map value at the exact offset of a referenced
    // kptr (or, not modelled here, an allocated object's own kptr field)
    private void ProcessKptrFunc(int regno)
    {
        var reg = Reg(regno);
        _kptrField = null;
        if (reg.Type != RegType.PtrToMapValue)
        {
            Fail(RejectKind.NotSupported, "bpf_kptr_xchg into an allocated object's kptr field is not modelled by this verifier");
        }

        var map = MapOf(reg);
        if (!reg.Bounds.VarOff.IsConst)
        {
            Fail(RejectKind.Invalid, "R{0} doesn't have constant offset. kptr has to be at the constant offset", regno);
        }

        if (map.KptrFields.Count == 0)
        {
            Fail(RejectKind.Invalid, "R{0} has no valid kptr", regno);
        }

        long off = reg.Off + (long)reg.Bounds.VarOff.Value;
        var field = FindKptrField(map, off);
        if (field is null)
        {
            Fail(RejectKind.Access, "off={0} doesn't point to kptr", off);
        }

        _kptrField = field;
    }

    // kernel: map_kptr_match_type() for bpf_kptr_xchg's R2: an object of the field's local type, at offset 0
    private void MapKptrMatchType(int regno)
    {
        var reg = Reg(regno);
        var field = _kptrField ?? throw new VerifierBugException("bpf_kptr_xchg without its kptr field");

        // check_reg_type() switches on the register's own type: an object that is neither owned (MEM_ALLOC alone,
        // or with MEM_PERCPU) nor a plain kernel pointer falls to its default case (Linux returns -EFAULT there; see
        // docs/differences.md)
        const RegTypeFlags Alloc = RegTypeFlags.MemAlloc;
        if ((reg.Flags & Alloc) != 0 && reg.Flags != Alloc && reg.Flags != (Alloc | RegTypeFlags.MemPercpu))
        {
            // verifier_bug(): -EFAULT
            Error("verifier bug: invalid PTR_TO_BTF_ID register for type match");
            throw new RejectException(_insnIdx, RejectKind.Invalid) { Errno = "EFAULT" };
        }

        var perm = RegTypeFlags.MaybeNull | RegTypeFlags.MemAlloc | (field.Percpu ? RegTypeFlags.MemPercpu : 0);
        // the register's type name is printed only once its type and flags have passed
        string regName = string.Empty;
        bool ok = reg.Type == RegType.PtrToBtfId && (reg.Flags & ~perm) == 0;
        if (ok)
        {
            regName = reg.BtfType ?? string.Empty;
            CheckPtrOffReg(reg, regno, fixedOffOk: true);
            ok = reg.Off == 0 && reg.BtfType == field.TypeName;
        }

        if (!ok)
        {
            // map_kptr_match_type() says -EINVAL, but check_reg_type() returns -EACCES for it
            Fail(RejectKind.Access, "invalid kptr access, R{0} type={1}{2} expected={3}{4}", regno, RegTypeText(reg),
                regName, RegTypeText(RegType.PtrToBtfId, 0), field.TypeName);
        }
    }

    /// <summary>check_reg_type()'s adjustment for bpf_kptr_xchg's R2: an allocated object matches as PTR_TO_BTF_ID
    /// (MEM_ALLOC and MEM_PERCPU are dropped before the table lookup).</summary>
    private static RegTypeFlags KptrXchgArgFlags(int funcId, int regno, RegTypeFlags flags) =>
        funcId == FuncKptrXchg && regno == 2 && (flags & RegTypeFlags.MemAlloc) != 0
            ? flags & ~(RegTypeFlags.MemAlloc | RegTypeFlags.MemPercpu)
            : flags;

    // check_func_arg() for ARG_PTR_TO_PERCPU_BTF_ID: remember R1's type for the return value
    private void RecordPercpuArg(in RegState reg)
    {
        _percpuArgType = reg.BtfType;
        _percpuArgRcu = (reg.Flags & RegTypeFlags.MemRcu) != 0;
    }

    // check_helper_call(): R0 of bpf_kptr_xchg (the field's type; MEM_ALLOC, and MEM_PERCPU for a per-CPU field) and
    // of bpf_per_cpu_ptr / bpf_this_cpu_ptr on a per-CPU object read from a map (returns_cpu_specific_alloc_ptr:
    // PTR_TO_BTF_ID | MEM_ALLOC | MEM_RCU, never NULL)
    private void KptrHelperRet(int funcId, ref RegState r0)
    {
        if (funcId == FuncKptrXchg && _kptrField is { } field)
        {
            r0.BtfType = field.TypeName;
            r0.Flags |= RegTypeFlags.MemAlloc | (field.Percpu ? RegTypeFlags.MemPercpu : 0);
        }
        else if (funcId is FuncPerCpuPtr or FuncThisCpuPtr)
        {
            r0.BtfType = _percpuArgType;
            r0.Flags = _percpuArgRcu
                ? RegTypeFlags.MemAlloc | RegTypeFlags.MemRcu
                : r0.Flags & ~RegTypeFlags.MemRdonly;
        }
    }

    private static readonly (RegType Type, RegTypeFlags Flags)[] s_kptrXchgDestTypes =
        [(RegType.PtrToMapValue, 0), (RegType.PtrToBtfId, RegTypeFlags.MemAlloc)];

    private static readonly (RegType Type, RegTypeFlags Flags)[] s_percpuBtfPtrTypes =
    [
        (RegType.PtrToBtfId, RegTypeFlags.MemPercpu), (RegType.PtrToBtfId, RegTypeFlags.MemPercpu | RegTypeFlags.MemRcu),
        (RegType.PtrToBtfId, RegTypeFlags.MemPercpu | RegTypeFlags.PtrTrusted),
    ];
}
