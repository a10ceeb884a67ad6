using VethXdp.Verifier.Context;
using VethXdp.Verifier.Domains;
using VethXdp.Verifier.Log;
using VethXdp.Verifier.State;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;

namespace VethXdp.Verifier.Checks;

// kernel: check_mem_access() and the per-pointer-type checks; check_stack_read/write; check_atomic().
internal sealed partial class VerifierEnv
{
    private enum Access
    {
        Read,
        Write,
    }

    // kernel: do_check_insn() BPF_LDX -> check_load_mem()
    private void CheckLoadMem(Instruction insn)
    {
        if (insn.Mode is not (MemMode.Mem or MemMode.MemSx) || insn.Imm != 0 ||
            (insn.Mode == MemMode.MemSx && insn.MemSize == MemSize.DW))
        {
            Fail(RejectKind.Invalid, Msg.LdxReservedFields);
        }

        CheckRegRead(insn.SrcReg);
        CheckRegWrite(insn.DstReg, mark: false);
        var srcType = Reg(insn.SrcReg).Type;
        CheckMemAccess(insn.SrcReg, insn.Offset, insn.AccessBytes, Access.Read, insn.DstReg, strictOnce: false,
            isLdsx: insn.Mode == MemMode.MemSx);
        SaveAuxPtrType(srcType);
    }

    // kernel: BPF_STX -> check_store_reg() / check_atomic()
    private void CheckStoreReg(Instruction insn)
    {
        if (insn.Mode == MemMode.Atomic)
        {
            CheckAtomic(insn);
            return;
        }

        if (insn.Mode != MemMode.Mem || insn.Imm != 0)
        {
            Fail(RejectKind.Invalid, Msg.StxReservedFields);
        }

        CheckRegRead(insn.SrcReg);
        CheckRegRead(insn.DstReg);
        var dstType = Reg(insn.DstReg).Type;
        CheckMemAccess(insn.DstReg, insn.Offset, insn.AccessBytes, Access.Write, insn.SrcReg, strictOnce: false, isLdsx: false);
        SaveAuxPtrType(dstType);
    }

    // kernel: BPF_ST
    private void CheckStoreImm(Instruction insn)
    {
        if (insn.Mode != MemMode.Mem || insn.SrcReg != 0)
        {
            Fail(RejectKind.Invalid, Msg.StReservedFields);
        }

        CheckRegRead(insn.DstReg);
        var dstType = Reg(insn.DstReg).Type;
        _stImm = insn.Imm;
        CheckMemAccess(insn.DstReg, insn.Offset, insn.AccessBytes, Access.Write, -1, strictOnce: false, isLdsx: false,
            isStImm: true);
        SaveAuxPtrType(dstType);
    }

    private int _stImm;

    // kernel: save_aux_ptr_type(): one instruction must see the same kind of pointer on every path, because the
    // context rewrite is per instruction.
    private void SaveAuxPtrType(RegType type)
    {
        ref var aux = ref Aux[_insnIdx];
        if (!aux.PtrTypeSet)
        {
            aux.PtrType = type;
            aux.PtrTypeSet = true;
            return;
        }

        // kernel: reg_type_mismatch_ok / reg_type_mismatch: ctx (and the socket pointers) must not mix with others
        static bool Special(RegType t) => t is RegType.PtrToCtx or RegType.PtrToSocket or RegType.PtrToSockCommon or
            RegType.PtrToTcpSock or RegType.PtrToXdpSock or RegType.PtrToBtfId;
        if (aux.PtrType != type && (Special(aux.PtrType) || Special(type)))
        {
            Fail(RejectKind.Invalid, Msg.SameInsnDifferentPointers);
        }
    }

    // kernel: check_atomic() / check_atomic_rmw() / check_atomic_load() / check_atomic_store()
    private void CheckAtomic(Instruction insn)
    {
        const int Add = 0x00, Or = 0x40, And = 0x50, Xor = 0xa0, Fetch = 0x01, Xchg = 0xe1, CmpXchg = 0xf1;
        const int LoadAcq = 0x100, StoreRel = 0x110;
        int imm = insn.Imm;
        bool rmw = imm is Add or Or or And or Xor or (Add | Fetch) or (Or | Fetch) or (And | Fetch) or (Xor | Fetch) or
            Xchg or CmpXchg;
        if (imm is LoadAcq or StoreRel)
        {
            CheckAtomicLoadStore(insn, imm == LoadAcq);
            return;
        }

        if (!rmw)
        {
            Fail(RejectKind.Invalid, Msg.AtomicInvalidOpcode, imm);
        }

        if (insn.MemSize is not (MemSize.W or MemSize.DW))
        {
            Fail(RejectKind.Invalid, Msg.AtomicInvalidSize);
        }

        CheckRegRead(insn.SrcReg);
        CheckRegRead(insn.DstReg);
        if (imm == CmpXchg)
        {
            CheckRegRead(0);
        }

        var d = Reg(insn.DstReg);
        if (d.Type is RegType.PtrToCtx or RegType.PtrToPacket or RegType.PtrToPacketMeta or RegType.PtrToFlowKeys or
            RegType.PtrToSocket or RegType.PtrToSockCommon or RegType.PtrToTcpSock or RegType.PtrToXdpSock)
        {
            Fail(RejectKind.Access, Msg.AtomicStoresInto, insn.DstReg, RegTypeText(d));
        }

        int loadReg = -1;
        if ((imm & Fetch) != 0)
        {
            loadReg = imm == CmpXchg ? 0 : insn.SrcReg;
            CheckRegWrite(loadReg, mark: true);
        }

        var dstType = d.Type;
        CheckMemAccess(insn.DstReg, insn.Offset, insn.AccessBytes, Access.Read, -1, strictOnce: true, isLdsx: false);
        if (loadReg >= 0)
        {
            CheckMemAccess(insn.DstReg, insn.Offset, insn.AccessBytes, Access.Read, loadReg, strictOnce: true, isLdsx: false);
        }

        CheckMemAccess(insn.DstReg, insn.Offset, insn.AccessBytes, Access.Write, -1, strictOnce: true, isLdsx: false);
        SaveAuxPtrType(dstType);
    }

    private void CheckAtomicLoadStore(Instruction insn, bool load)
    {
        if (load)
        {
            CheckRegRead(insn.SrcReg);
            CheckRegWrite(insn.DstReg, mark: false);
            var t = Reg(insn.SrcReg).Type;
            CheckMemAccess(insn.SrcReg, insn.Offset, insn.AccessBytes, Access.Read, insn.DstReg, strictOnce: true, isLdsx: false);
            SaveAuxPtrType(t);

            // kernel: check_atomic_load() looks at the source register after the load (so a load into the pointer's
            // own register passes)
            if (!AtomicPtrTypeOk(Reg(insn.SrcReg).Type))
            {
                Fail(RejectKind.Access, Msg.AtomicLoadsFrom, insn.SrcReg, RegTypeText(Reg(insn.SrcReg)));
            }
        }
        else
        {
            CheckRegRead(insn.SrcReg);
            CheckRegRead(insn.DstReg);
            var t = Reg(insn.DstReg).Type;
            CheckMemAccess(insn.DstReg, insn.Offset, insn.AccessBytes, Access.Write, insn.SrcReg, strictOnce: true, isLdsx: false);
            SaveAuxPtrType(t);

            // kernel: check_atomic_store(), after check_store_reg()
            if (!AtomicPtrTypeOk(Reg(insn.DstReg).Type))
            {
                Fail(RejectKind.Access, Msg.AtomicStoresInto, insn.DstReg, RegTypeText(Reg(insn.DstReg)));
            }
        }
    }

    // kernel: atomic_ptr_type_ok(): no atomics on ctx, packet, flow keys or socket pointers (no arena here)
    private static bool AtomicPtrTypeOk(RegType t) =>
        t is not (RegType.PtrToCtx or RegType.PtrToPacket or RegType.PtrToPacketMeta or RegType.PtrToFlowKeys or
            RegType.PtrToSocket or RegType.PtrToSockCommon or RegType.PtrToTcpSock or RegType.PtrToXdpSock);

    // kernel: check_mem_access()
    private void CheckMemAccess(int regno, int off, int size, Access t, int valueRegno, bool strictOnce, bool isLdsx,
        bool isStImm = false)
    {
        var reg = Reg(regno);
        CheckPtrAlignment(reg, off, size, strictOnce);

        // for access checks, reg->off is just part of off
        off += reg.Off;
        var baseType = reg.Type;
        if (baseType == RegType.PtrToMapKey)
        {
            if (t == Access.Write)
            {
                Fail(RejectKind.Access, "write to change key R{0} not allowed", regno);
            }

            CheckMemRegionAccess(regno, off, size, (int)MapOf(reg).KeySize, zeroSizeAllowed: false);
            if (valueRegno >= 0)
            {
                MarkRegUnknown(ref Reg(valueRegno));
            }
        }
        else if (baseType == RegType.PtrToMapValue && !reg.MaybeNull)
        {
            var map = MapOf(reg);
            CheckMapAccessType(map, off, size, t);
            CheckMapAccess(regno, off, size, zeroSizeAllowed: false);
            if (MapKptrFieldAt(reg, off) is { } kptrField)
            {
                CheckMapKptrAccess(valueRegno, kptrField);
            }
            else if (t == Access.Read && valueRegno >= 0)
            {
                // a frozen read-only map's contents are known: track them as constants (bpf_map_direct_read)
                if (reg.Bounds.VarOff.IsConst && map.Frozen && map.InitialData is { } data && map.Type == MapType.Array)
                {
                    long mapOff = off + (long)reg.Bounds.VarOff.Value;
                    ulong val = 0;
                    for (int i = size - 1; i >= 0; i--)
                    {
                        long p = mapOff + i;
                        val = (val << 8) | (p >= 0 && p < data.Length ? data[p] : (byte)0);
                    }

                    if (isLdsx)
                    {
                        int shift = 64 - (size * 8);
                        val = (ulong)(((long)val << shift) >> shift);
                    }

                    Reg(valueRegno) = RegState.KnownScalar(val);
                }
                else
                {
                    MarkRegUnknown(ref Reg(valueRegno));
                }
            }
        }
        else if (baseType == RegType.PtrToMem && !reg.MaybeNull)
        {
            bool rdonly = (reg.Flags & RegTypeFlags.MemRdonly) != 0;
            if (t == Access.Write && rdonly)
            {
                Fail(RejectKind.Access, Msg.CannotWriteInto, regno, RegTypeText(reg));
            }

            CheckMemRegionAccess(regno, off, size, reg.MemSize, zeroSizeAllowed: false);
            if (valueRegno >= 0 && (t == Access.Read || rdonly))
            {
                MarkRegUnknown(ref Reg(valueRegno));
            }
        }
        else if (baseType == RegType.PtrToCtx)
        {
            CheckPtrOffReg(reg, regno, fixedOffOk: false);
            var info = CheckCtxAccess(off, size, t, isLdsx);
            if (t == Access.Read && valueRegno >= 0)
            {
                ref var v = ref Reg(valueRegno);
                if (info.RegType == RegType.Scalar)
                {
                    MarkRegUnknown(ref v);
                }
                else
                {
                    // ctx access returns a pointer whose offset is zero
                    v = RegState.Pointer(info.RegType, info.Flags);
                    v.BtfType = info.BtfType;
                    if ((info.Flags & RegTypeFlags.MaybeNull) != 0)
                    {
                        v.Id = NewId();
                    }
                }
            }
        }
        else if (baseType == RegType.PtrToStack)
        {
            CheckStackAccessWithinBounds(regno, off, size, t == Access.Read ? " read from" : " write to");
            var state = _cur.Frames[reg.Frameno]!;
            if (t == Access.Read)
            {
                CheckStackRead(state, regno, off, size, valueRegno);
            }
            else
            {
                CheckStackWrite(state, regno, off, size, valueRegno, isStImm);
            }
        }
        else if (reg.IsPktPointer)
        {
            if (t == Access.Write && !(Prog.Ctx?.MayAccessDirectPacketData(CtxAccessType.Write) ?? false))
            {
                Fail(RejectKind.Access, Msg.CannotWriteIntoPacket);
            }

            CheckPacketAccess(regno, off, size, zeroSizeAllowed: false);
            if (t == Access.Read && valueRegno >= 0)
            {
                MarkRegUnknown(ref Reg(valueRegno));
            }
        }
        else if (baseType is RegType.PtrToSocket or RegType.PtrToSockCommon or RegType.PtrToTcpSock or
                     RegType.PtrToXdpSock && !reg.MaybeNull)
        {
            if (t == Access.Write)
            {
                Fail(RejectKind.Access, Msg.CannotWriteInto, regno, RegTypeText(reg));
            }

            CheckSockAccess(regno, reg, off, size);
            if (valueRegno >= 0)
            {
                MarkRegUnknown(ref Reg(valueRegno));
            }
        }
        else if (baseType == RegType.PtrToBtfId && !reg.MaybeNull && IsLocalObject(reg))
        {
            CheckLocalObjectAccess(regno, reg, off, size, t, valueRegno);
        }
        else if (baseType == RegType.ConstPtrToMap && !reg.MaybeNull && (off < 0 || t != Access.Read) &&
                 MapBtfName(MapOf(reg).Type) is { } mapStruct)
        {
            // kernel: check_ptr_to_map_access(): the map is read as its kernel struct (struct bpf_array, ...)
            if (off < 0)
            {
                Fail(RejectKind.Access, "R{0} is {1} invalid negative access: off={2}", regno, mapStruct, off);
            }

            Fail(RejectKind.Access, "only read from {0} is supported", mapStruct);
        }
        else if ((baseType == RegType.PtrToBtfId || baseType == RegType.ConstPtrToMap) && !reg.MaybeNull &&
                 t == Access.Read && off >= 0)
        {
            // A kernel object (task_struct, ...): Linux checks the access against the object's BTF (btf_struct_access);
            // we have no kernel BTF here, so any read at a non-negative offset gives an unknown scalar. See
            // docs/differences.md.
            if (valueRegno >= 0)
            {
                MarkRegUnknown(ref Reg(valueRegno));
            }
        }
        else
        {
            Fail(RejectKind.Access, Msg.InvalidMemAccess, regno, RegTypeText(reg));
        }

        if (size < 8 && valueRegno >= 0 && t == Access.Read && Reg(valueRegno).Type == RegType.Scalar)
        {
            ref var v = ref Reg(valueRegno);
            if (!isLdsx)
            {
                // b/h/w load zero-extends: the upper bits are known 0
                v.Bounds.CoerceToSize(size);
            }
            else
            {
                v.Bounds.CoerceToSizeSx(size);
            }
        }
    }

    // the struct behind each map type's map_btf_id (the kernel's BTF_ID_LIST_SINGLE in each map implementation);
    // null where we do not know it (those accesses keep the generic message)
    private static string? MapBtfName(MapType type) => type switch
    {
        MapType.Array or MapType.PercpuArray or MapType.ProgArray or MapType.PerfEventArray or MapType.CgroupArray or
            MapType.ArrayOfMaps => "bpf_array",
        MapType.Hash or MapType.PercpuHash or MapType.LruHash or MapType.LruPercpuHash or MapType.HashOfMaps => "bpf_htab",
        MapType.Devmap or MapType.DevmapHash => "bpf_dtab",
        MapType.Cpumap => "bpf_cpu_map",
        MapType.Xskmap => "xsk_map",
        MapType.Sockmap => "bpf_stab",
        MapType.Sockhash => "bpf_shtab",
        MapType.Ringbuf or MapType.UserRingbuf => "bpf_ringbuf_map",
        MapType.Queue or MapType.Stack => "bpf_queue_stack",
        MapType.LpmTrie => "lpm_trie",
        MapType.StackTrace => "bpf_stack_map",
        MapType.BloomFilter => "bpf_bloom_filter",
        _ => null,
    };

    private MapSpec MapOf(in RegState reg)
    {
        if ((uint)reg.MapIndex >= (uint)Maps.Count)
        {
            throw new VerifierBugException($"register of type {reg.Type} without a map");
        }

        return Maps[reg.MapIndex];
    }

    // kernel: check_ptr_alignment(); x86-64 has efficient unaligned access, so only the stack (always strict) and
    // atomics (strict once) are checked.
    private void CheckPtrAlignment(in RegState reg, int off, int size, bool strictOnce)
    {
        bool strict = strictOnce || Prog.StrictAlignment;
        string desc;
        switch (reg.Type)
        {
            case RegType.PtrToPacket:
            case RegType.PtrToPacketMeta:
                if (!strict || size == 1)
                {
                    return;
                }

                // check_pkt_ptr_alignment(): the verifier assumes NET_IP_ALIGN = 2 (the common case), so the IP
                // header is word aligned
                const int IpAlign = 2;
                var pktOff = Tnum.Add(Tnum.Const(IpAlign), Tnum.Add(reg.Bounds.VarOff, Tnum.Const((ulong)(long)(reg.Off + off))));
                if (!Tnum.IsAligned(pktOff, (ulong)size))
                {
                    Fail(RejectKind.Access, Msg.MisalignedPacket, IpAlign, TnumText(reg.Bounds.VarOff), reg.Off, off, size);
                }

                return;
            case RegType.PtrToFlowKeys: desc = "flow keys "; break;
            case RegType.PtrToMapKey: desc = "key "; break;
            case RegType.PtrToMapValue: desc = "value "; break;
            case RegType.PtrToCtx: desc = "context "; break;
            case RegType.PtrToStack: desc = "stack "; strict = true; break;
            case RegType.PtrToSocket: desc = "sock "; break;
            case RegType.PtrToSockCommon: desc = "sock_common "; break;
            case RegType.PtrToTcpSock: desc = "tcp_sock "; break;
            case RegType.PtrToXdpSock: desc = "xdp_sock "; break;
            default: desc = string.Empty; break;
        }

        if (!strict || size == 1)
        {
            return;
        }

        var regOff = Tnum.Add(reg.Bounds.VarOff, Tnum.Const((ulong)(long)(reg.Off + off)));
        if (!Tnum.IsAligned(regOff, (ulong)size))
        {
            Fail(RejectKind.Access, Msg.Misaligned, desc, TnumText(reg.Bounds.VarOff), reg.Off, off, size);
        }
    }

    // kernel: __check_ptr_off_reg()
    private void CheckPtrOffReg(in RegState reg, int regno, bool fixedOffOk)
    {
        if (reg.Off < 0)
        {
            Fail(RejectKind.Access, Msg.NegativeOffsetPtr, RegTypeText(reg), regno, reg.Off);
        }

        if (!fixedOffOk && reg.Off != 0)
        {
            Fail(RejectKind.Access, Msg.ModifiedPtr, RegTypeText(reg), regno, reg.Off);
        }

        if (!reg.Bounds.VarOff.IsConst || reg.Bounds.VarOff.Value != 0)
        {
            Fail(RejectKind.Access, Msg.VariablePtrAccess, RegTypeText(reg), TnumText(reg.Bounds.VarOff));
        }
    }

    // kernel: check_ctx_access()
    private CtxAccessInfo CheckCtxAccess(int off, int size, Access t, bool isLdsx)
    {
        var model = Prog.Ctx;
        if (model is not null &&
            model.IsValidAccess(off, size, t == Access.Read ? CtxAccessType.Read : CtxAccessType.Write, isLdsx, out var info))
        {
            Aux[_insnIdx].CtxFieldSize = info.CtxFieldSize;
            return info;
        }

        Error(Msg.InvalidContextAccess, off, size);
        _log.LineInfo(_insnIdx, "; ");
        FailLogged(RejectKind.Access);
        return default;
    }

    // kernel: check_sock_access(): the fields bpf_sock / bpf_sock_common / bpf_tcp_sock / bpf_xdp_sock expose (read
    // only; net/core/filter.c decides the offsets and sizes).
    private void CheckSockAccess(int regno, in RegState reg, int off, int size)
    {
        if (reg.Bounds.SMin < 0)
        {
            Fail(RejectKind.Access, Msg.MinValueNegative, regno);
        }

        bool valid = reg.Type switch
        {
            RegType.PtrToSockCommon => SockAccess.SockCommonIsValid(off, size, out _),
            RegType.PtrToSocket => SockAccess.SockIsValid(off, size, out _),
            RegType.PtrToTcpSock => SockAccess.TcpSockIsValid(off, size),
            RegType.PtrToXdpSock => SockAccess.XdpSockIsValid(off, size),
            _ => false,
        };
        if (!valid)
        {
            Fail(RejectKind.Access, "R{0} invalid {1} access off={2} size={3}", regno, RegTypeText(reg), off, size);
        }
    }

    // kernel: check_map_access_type()
    private void CheckMapAccessType(MapSpec map, int off, int size, Access t)
    {
        const uint RdonlyProg = 1 << 7, WronlyProg = 1 << 8;
        if (t == Access.Write && (map.Flags & RdonlyProg) != 0)
        {
            Fail(RejectKind.Access, Msg.MapWriteForbidden, map.ValueSize, off, size);
        }

        if (t == Access.Read && (map.Flags & WronlyProg) != 0)
        {
            Fail(RejectKind.Access, Msg.MapReadForbidden, map.ValueSize, off, size);
        }
    }

    // kernel: check_map_access()
    private void CheckMapAccess(int regno, int off, int size, bool zeroSizeAllowed, bool helper = false)
    {
        var reg = Reg(regno);
        var map = MapOf(reg);
        CheckMemRegionAccess(regno, off, size, (int)map.ValueSize, zeroSizeAllowed);
        if (map.SpinLockOffset >= 0)
        {
            long lo = reg.Bounds.SMin + off, hi = (long)reg.Bounds.UMax + off + size;
            if (lo < map.SpinLockOffset + 4 && map.SpinLockOffset < hi)
            {
                Fail(RejectKind.Access, Msg.SpinLockDirect);
            }
        }

        CheckMapAccessKptrFields(reg, map, off, size, helper);
    }

    // kernel: check_mem_region_access(); prints the state first, as the kernel does.
    private void CheckMemRegionAccess(int regno, int off, int size, int memSize, bool zeroSizeAllowed)
    {
        var reg = Reg(regno);
        long smin = reg.Bounds.SMin;
        if (smin < 0 && (smin == long.MinValue || off + smin != (int)(off + smin) || smin + off < 0))
        {
            Fail(RejectKind.Access, Msg.MinValueNegative, regno);
        }

        if (!MemAccessOk(smin + off, size, memSize, zeroSizeAllowed))
        {
            ReportMemAccess(regno, reg, smin + off, size, memSize);
            Fail(RejectKind.Access, Msg.MinValueOutside, regno);
        }

        if (reg.Bounds.UMax >= MaxVarOff)
        {
            Fail(RejectKind.Access, Msg.UnboundedMemAccess, regno);
        }

        long maxOff = (long)reg.Bounds.UMax + off;
        if (!MemAccessOk(maxOff, size, memSize, zeroSizeAllowed))
        {
            ReportMemAccess(regno, reg, maxOff, size, memSize);
            Fail(RejectKind.Access, Msg.MaxValueOutside, regno);
        }
    }

    private static bool MemAccessOk(long off, int size, int memSize, bool zeroSizeAllowed)
    {
        bool sizeOk = size > 0 || (size == 0 && zeroSizeAllowed);
        return off >= 0 && sizeOk && (ulong)off + (ulong)(long)size <= (ulong)(uint)memSize;
    }

    // kernel: __check_mem_access()'s message
    private void ReportMemAccess(int regno, in RegState reg, long off, int size, int memSize)
    {
        switch (reg.Type)
        {
            case RegType.PtrToMapKey:
                Error(Msg.MapKeyAccess, memSize, (int)off, size);
                break;
            case RegType.PtrToMapValue:
                Error(Msg.MapValueAccess, memSize, (int)off, size);
                break;
            case RegType.PtrToPacket:
            case RegType.PtrToPacketMeta:
            case RegType.PtrToPacketEnd:
                Error(Msg.PacketAccess, (int)off, size, regno, reg.Id, (int)off, memSize);
                break;
            default:
                Error(Msg.MemoryAccess, (uint)memSize, (int)off, size);
                break;
        }
    }

    // kernel: check_packet_access()
    private void CheckPacketAccess(int regno, int off, int size, bool zeroSizeAllowed)
    {
        var reg = Reg(regno);
        // we don't allow negative numbers: not enough detail is tracked to prove them safe
        if (reg.Bounds.SMin < 0)
        {
            Fail(RejectKind.Access, Msg.MinValueNegative, regno);
        }

        if (reg.Range < 0 || !MemAccessOk(off, size, reg.Range, zeroSizeAllowed))
        {
            if (reg.Range >= 0)
            {
                ReportMemAccess(regno, reg, off, size, reg.Range);
            }

            // a "beyond pkt_end" marker range is -EINVAL; a failed bounds check keeps __check_mem_access's -EACCES
            Fail(reg.Range < 0 ? RejectKind.Invalid : RejectKind.Access, Msg.OutsidePacket, regno);
        }
    }

    // kernel: check_stack_access_within_bounds()
    private void CheckStackAccessWithinBounds(int regno, int off, int accessSize, string errExtra)
    {
        var reg = Reg(regno);
        long minOff, maxOff;
        if (reg.Bounds.VarOff.IsConst)
        {
            minOff = (long)reg.Bounds.VarOff.Value + off;
            maxOff = minOff + accessSize;
        }
        else
        {
            if (reg.Bounds.SMax >= MaxVarOff || reg.Bounds.SMin <= -MaxVarOff)
            {
                Fail(RejectKind.Access, Msg.InvalidUnboundedVarStack, errExtra, regno);
            }

            minOff = reg.Bounds.SMin + off;
            maxOff = reg.Bounds.SMax + off + accessSize;
        }

        // root: allow_uninit_stack, so every write and read may go down to -MAX_BPF_STACK
        // errno as the kernel's: a start outside the stack -EACCES (check_stack_slot_within_bounds), an end past the
        // frame pointer -EINVAL (a negative size, -EFAULT there, cannot reach here)
        bool err = minOff < -512 || minOff > -1 || maxOff > 0 || accessSize < 0;
        if (err)
        {
            var kind = minOff < -512 || minOff > -1 ? RejectKind.Access : maxOff > 0 ? RejectKind.Invalid : RejectKind.Access;
            if (reg.Bounds.VarOff.IsConst)
            {
                Fail(kind, Msg.InvalidStack, errExtra, regno, off, accessSize);
            }

            Fail(kind, Msg.InvalidVarStack, errExtra, regno, TnumText(reg.Bounds.VarOff), off, accessSize);
        }

        // there is no stack access with offset zero, so the needed size is -minOff
        var state = _cur.Frames[reg.Frameno]!;
        state.GrowStack((int)-minOff);
        int sub = state.Subprogno;
        if (sub < StackDepth.Length)
        {
            // grow_stack_state(): the depth is kept in whole 8-byte slots
            StackDepth[sub] = Math.Max(StackDepth[sub], (int)((-minOff + 7) / 8 * 8));
        }
    }

    private void MarkStackScratched(int spi)
    {
        if (spi is >= 0 and < 64)
        {
            _scratchedStack |= 1UL << spi;
        }
    }

    // kernel: check_stack_write() -> check_stack_write_fixed_off() / check_stack_write_var_off()
    private void CheckStackWrite(FuncState state, int regno, int off, int size, int valueRegno, bool isStImm)
    {
        var ptr = Reg(regno);
        if (!ptr.Bounds.VarOff.IsConst)
        {
            CheckStackWriteVarOff(state, ptr, off, size, valueRegno, isStImm);
            return;
        }

        off += (int)(long)ptr.Bounds.VarOff.Value;
        int slot = -off - 1, spi = slot / 8;
        DestroyIfDynptrStackSlot(state, spi);
        if (off % 8 == 0 && size == 8)
        {
            // only a write of all 8 bytes kills the slot (a narrower one leaves the rest as it was)
            MarkStackWrite(state.Frameno, spi);
        }

        ref var st = ref state.Stack[spi];
        MarkStackScratched(spi);
        RegState? value = valueRegno >= 0 ? Func.Regs[valueRegno] : null;
        if (value is { } v && off % 8 == 0 && v.Type == RegType.Scalar)
        {
            // a scalar spill (bpf_capable): the state is kept, even for narrow spills
            bool fits = RegWidth(v) <= 8 * size;
            if (fits)
            {
                AssignScalarIdBeforeMov(ref Func.Regs[valueRegno]);
                v = Func.Regs[valueRegno];
            }

            SaveRegisterState(ref st, v, size);
            if (!fits)
            {
                st.Spilled.Id = 0;
            }
        }
        else if (value is null && off % 8 == 0 && isStImm)
        {
            var tmp = RegState.KnownScalar((ulong)(long)_stImm);
            SaveRegisterState(ref st, tmp, size);
        }
        else if (value is { } p && p.IsPointer)
        {
            // a register holding a pointer is being spilled into the stack
            if (size != 8)
            {
                _log.LineInfo(_insnIdx, "; ");
                Fail(RejectKind.Access, Msg.InvalidSizeOfSpill);
            }

            if (state != Func && p.Type == RegType.PtrToStack)
            {
                Fail(RejectKind.Invalid, Msg.SpillIntoCaller);
            }

            SaveRegisterState(ref st, p, size);
        }
        else
        {
            var type = SlotType.Misc;
            // regular write of data into stack destroys any spilled ptr
            st.Spilled = RegState.NotInit;
            if (IsStackSlotSpecial(st))
            {
                for (int i = 0; i < 8; i++)
                {
                    st.Types[i] = ScrubSlot(st.Types[i]);
                }
            }

            if ((value is { } z && z.IsNull) || (value is null && isStImm && _stImm == 0))
            {
                type = SlotType.Zero;
            }

            for (int i = 0; i < size; i++)
            {
                st.Types[(slot - i) % 8] = type;
            }
        }
    }

    private static bool IsStackSlotSpecial(in StackSlot st) =>
        st.Types[7] is SlotType.Spill or SlotType.Dynptr or SlotType.Iter or SlotType.IrqFlag;

    // kernel: scrub_spilled_slot(): a byte of a broken spill becomes MISC (only INVALID stays).
    private static SlotType ScrubSlot(SlotType t) => t is SlotType.Invalid ? t : SlotType.Misc;

    // kernel: save_register_state()
    private static void SaveRegisterState(ref StackSlot st, RegState reg, int size)
    {
        st.Spilled = reg;
        int i;
        for (i = 8; i > 8 - size; i--)
        {
            st.Types[i - 1] = SlotType.Spill;
        }

        // size < 8 bytes spill
        for (; i > 0; i--)
        {
            var t = st.Types[i - 1];
            if (t is not (SlotType.Zero or SlotType.Invalid))
            {
                st.Types[i - 1] = SlotType.Misc;
            }
        }
    }

    // kernel: get_reg_width(): bits needed for the largest value
    private static int RegWidth(in RegState r)
    {
        ulong max = r.Bounds.UMax;
        return max == 0 ? 0 : 64 - System.Numerics.BitOperations.LeadingZeroCount(max);
    }

    // kernel: check_stack_write_var_off(). Zero written (a register known to be 0, or BPF_ST's imm 0) keeps what is
    // already zero: a spilled constant 0 stays a spill, a ZERO byte stays ZERO; then the written value is made
    // precise, because the slots' contents now depend on it being exactly 0 ("backtracking doesn't work for
    // STACK_ZERO yet").
    private void CheckStackWriteVarOff(FuncState state, RegState ptr, int off, int size, int valueRegno, bool isStImm)
    {
        int minOff = (int)ptr.Bounds.SMin + off;
        int maxOff = (int)ptr.Bounds.SMax + off + size;
        bool writingZero = valueRegno >= 0 ? Func.Regs[valueRegno].IsNull : isStImm && _stImm == 0;
        bool zeroUsed = false;
        for (int i = minOff; i < maxOff; i++)
        {
            int slot = -i - 1, spi = slot / 8;
            ref var st = ref state.Stack[spi];
            MarkStackScratched(spi);
            ref var stype = ref st.Types[slot % 8];
            if (writingZero && stype == SlotType.Spill && st.Types[7] == SlotType.Spill && st.Spilled.IsNull)
            {
                zeroUsed = true;
                continue;
            }

            if (IsStackSlotSpecial(st))
            {
                for (int j = 0; j < 8; j++)
                {
                    st.Types[j] = ScrubSlot(st.Types[j]);
                }
            }

            st.Spilled = RegState.NotInit;
            // keep a ZERO byte only when zero is written; the rest may hold anything
            if (writingZero && stype == SlotType.Zero)
            {
                zeroUsed = true;
            }
            else
            {
                stype = SlotType.Misc;
            }
        }

        if (zeroUsed && valueRegno >= 0)
        {
            MarkChainPrecision(valueRegno);
        }
    }

    // kernel: check_stack_read() -> check_stack_read_fixed_off() / check_stack_read_var_off()
    private void CheckStackRead(FuncState state, int regno, int off, int size, int dstRegno)
    {
        var ptr = Reg(regno);
        if (!ptr.Bounds.VarOff.IsConst)
        {
            // variable offset: every byte must be initialised (as root, uninitialised is fine too); the result is
            // unknown
            int minOff = (int)ptr.Bounds.SMin + off;
            int maxOff = (int)ptr.Bounds.SMax + off + size;
            for (int i = minOff; i < maxOff; i++)
            {
                int slot = -i - 1;
                MarkStackScratched(slot / 8);
                MarkStackRead(state.Frameno, slot / 8); // check_stack_range_initialized()
            }

            if (dstRegno >= 0)
            {
                MarkRegUnknown(ref Func.Regs[dstRegno]);
            }

            return;
        }

        off += (int)(long)ptr.Bounds.VarOff.Value;
        int slotIdx = -off - 1, spi = slotIdx / 8;
        var st = state.Stack[spi];
        MarkStackScratched(spi);
        MarkStackRead(state.Frameno, spi);
        if (st.IsSpill)
        {
            var spilled = st.Spilled;
            int spillSize = 1;
            for (int i = 7; i > 0 && st.Types[i - 1] == SlotType.Spill; i--)
            {
                spillSize++;
            }

            if (size != 8 || spillSize != 8)
            {
                if (spilled.Type != RegType.Scalar)
                {
                    _log.LineInfo(_insnIdx, "; ");
                    Fail(RejectKind.Access, Msg.InvalidSizeOfFill);
                }

                if (dstRegno < 0)
                {
                    return;
                }

                if (size <= spillSize && StackNarrowAccessOk(off, size, spillSize))
                {
                    if (size == 4 && spillSize == 4 && RegWidth(spilled) <= 32)
                    {
                        // a 32-bit fill of a 32-bit spill: the slot gets an id first, so the register and the slot
                        // stay linked (assign_scalar_id_before_mov)
                        AssignScalarIdBeforeMov(ref state.Stack[spi].Spilled);
                        spilled = state.Stack[spi].Spilled;
                    }

                    Func.Regs[dstRegno] = spilled;
                    if (RegWidth(spilled) > size * 8)
                    {
                        Func.Regs[dstRegno].Id = 0;
                    }
                }
                else
                {
                    int spillCnt = 0, zeroCnt = 0;
                    for (int i = 0; i < size; i++)
                    {
                        var type = st.Types[(slotIdx - i) % 8];
                        if (type == SlotType.Spill)
                        {
                            spillCnt++;
                        }
                        else if (type == SlotType.Zero)
                        {
                            zeroCnt++;
                        }
                    }

                    if ((spillCnt == size && spilled.IsNull) || zeroCnt == size)
                    {
                        Func.Regs[dstRegno] = RegState.KnownScalar(0);
                    }
                    else
                    {
                        MarkRegUnknown(ref Func.Regs[dstRegno]);
                    }
                }
            }
            else if (dstRegno >= 0)
            {
                // restore register state from stack
                Func.Regs[dstRegno] = spilled;
            }

            return;
        }

        int zeros = 0;
        for (int i = 0; i < size; i++)
        {
            var type = st.Types[(slotIdx - i) % 8];
            if (type == SlotType.Zero)
            {
                zeros++;
            }
            else if (type is SlotType.Dynptr or SlotType.Iter or SlotType.IrqFlag)
            {
                Fail(RejectKind.Access, Msg.InvalidReadFromStack, off, i, size);
            }

            // MISC is fine; INVALID is fine for root (allow_uninit_stack)
        }

        if (dstRegno >= 0)
        {
            if (zeros == size)
            {
                Func.Regs[dstRegno] = RegState.KnownScalar(0);
            }
            else
            {
                MarkRegUnknown(ref Func.Regs[dstRegno]);
            }
        }
    }

    // kernel: bpf_stack_narrow_access_ok(): on little endian a spill's low bytes sit at the slot's lowest address,
    // so a narrower fill gets them (the low bytes of the spilled value) when it starts at the slot's start
    private static bool StackNarrowAccessOk(int off, int size, int spillSize)
    {
        _ = size;
        _ = spillSize;
        return off % 8 == 0;
    }
}
