using System.Globalization;
using VethXdp.Verifier.Domains;
using VethXdp.Verifier.Helpers;
using VethXdp.Verifier.Log;
using VethXdp.Verifier.State;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;

namespace VethXdp.Verifier.Checks;

// kernel: check_helper_call(), check_func_arg(), check_func_call(), push_callback_call(), prepare_func_exit(),
// check_return_code(), check_ld_imm(), check_ld_abs().
internal sealed partial class VerifierEnv
{
    private const long MaxVarSiz = 1 << 29; // BPF_MAX_VAR_SIZ
    private const int FuncTailCall = 12, FuncLoop = 181, FuncForEachMapElem = 164, FuncMapLookupElem = 1, FuncTimerSetCallback = 170, FuncUserRingbufDrain = 209,
        FuncFindVma = 180;
    private const int FuncSpinLock = 93, FuncSpinUnlock = 94, FuncGetSmpProcessorId = 8, FuncDynptrData = 203;

    /// <summary>check_helper_call()'s scratch (<c>struct bpf_call_arg_meta</c>).</summary>
    private struct CallMeta
    {
        public int MapIndex;
        public int RawRegno;
        public int AccessSize;
        public bool RawMode;
        public int ReleaseRegno;
        public int RefObjId;
        public long ConstMapKey;
        public int MemSize;
        public ulong MsizeMaxValue;
        public int Subprogno;
    }

    // kernel: check_helper_call()
    private void CheckHelperCall(Instruction insn)
    {
        int funcId = insn.Imm;
        var availability = HelperProtos.Lookup(Prog.Type, Prog.ExpectedAttachType, funcId, out var fn);
        string name = Vm.Isa.HelperNames.Name(funcId) ?? "unknown";
        if (availability == HelperAvailability.Unknown)
        {
            Fail(RejectKind.Invalid, HelperProtos.InvalidFuncMessage, name, funcId);
        }

        if (availability == HelperAvailability.ProgramTypeNotModelled)
        {
            Fail(RejectKind.NotSupported, "helper calls of program type {0} are not modelled by this verifier", Prog.Type);
        }

        if (availability != HelperAvailability.Available || fn is null)
        {
            Fail(RejectKind.Invalid, HelperProtos.CannotUseHelperMessage, name, funcId);
        }

        var meta = new CallMeta { MapIndex = -1, ConstMapKey = -1, Subprogno = -1 };
        int dynptrReleaseRegno = 0;
        for (int arg = 0; arg < 5; arg++)
        {
            var a = fn.Args[arg];
            if (a.Type == ArgType.PtrToDynptr)
            {
                int regno = arg + 1;
                CheckRegRead(regno);
                int dynId = 0, dynRef = 0;
                RegTypeFlags dynType = 0;
                if (a.Releases)
                {
                    if (Reg(regno).Type != RegType.PtrToStack)
                    {
                        Fail(RejectKind.Invalid, "cannot release unowned const bpf_dynptr");
                    }

                    dynptrReleaseRegno = regno;
                }

                ProcessDynptrFunc(regno, a.Flags, a.Uninit, a.ReadOnly, arg, ref dynId, ref dynType, ref dynRef);
                if (funcId == FuncDynptrData && dynRef != 0)
                {
                    meta.RefObjId = dynRef; // bpf_dynptr_data: the slice shares the dynptr's reference
                }

                continue;
            }

            CheckFuncArg(arg, ref meta, fn);
        }

        if (dynptrReleaseRegno != 0)
        {
            ReleaseDynptr(dynptrReleaseRegno);
        }

        if (meta.MapIndex >= 0)
        {
            // kernel: record_func_map()
            Aux[_insnIdx].MapIndex = meta.MapIndex;
            var m = Maps[meta.MapIndex];
            const uint RdonlyProg = 1 << 7;
            if ((m.Flags & RdonlyProg) != 0 && funcId is 2 or 3 or 87 or 88)
            {
                Fail(RejectKind.Access, "write into map forbidden");
            }

            if (funcId == FuncTailCall && m.Type != MapType.ProgArray)
            {
                // the kernel's message has no newline: the next log line follows it directly
                _errText.Append("expected prog array map for tail call");
                _log.Write("expected prog array map for tail call");
                FailLogged(RejectKind.Invalid);
            }

            // kernel: record_func_key(): a constant key within the prog array is recorded for the direct-jump
            // rewrite, so the path depends on its value: R3 becomes precise (pruning must not merge other keys)
            var key = Reg(3);
            if (funcId == FuncTailCall && key.Type == RegType.Scalar && key.Bounds.VarOff.IsConst &&
                key.Bounds.VarOff.Value < m.MaxEntries)
            {
                MarkChainPrecision(3);
            }
        }

        // raw mode: the helper writes these stack bytes, mark them as written (STACK_MISC)
        for (int i = 0; i < meta.AccessSize; i++)
        {
            CheckMemAccess(meta.RawRegno, i, 1, Access.Write, -1, strictOnce: false, isLdsx: false);
        }

        if (meta.ReleaseRegno != 0)
        {
            if (meta.RefObjId != 0)
            {
                ReleaseReference(meta.RefObjId);
            }
            else if (!Reg(meta.ReleaseRegno).IsNull)
            {
                Fail(RejectKind.Invalid, "func {0}#{1} reference has not been acquired before", name, funcId);
            }
        }

        switch (funcId)
        {
            case FuncTailCall:
                CheckResourceLeak(checkLock: true, Msg.TailCallPrefix);
                break;
            case FuncLoop:
                // kernel: the loop count decides when the iterations end, so R1 is precise; one more iteration is
                // pushed while this frame's callback_depth is below its maximum
                UpdateLoopInlineState(meta.Subprogno);
                MarkChainPrecision(1);
                if ((ulong)Func.CallbackDepth < Reg(1).Bounds.UMax)
                {
                    PushCallbackCall(funcId, meta);
                }
                else
                {
                    Func.CallbackDepth = 0;
                    if (_log.IsLevel2)
                    {
                        _log.Write(string.Create(CultureInfo.InvariantCulture, $"frame{_cur.CurFrame} bpf_loop iteration limit reached\n"));
                    }
                }

                break;
            case FuncForEachMapElem:
            case FuncUserRingbufDrain:
            case FuncFindVma:
                PushCallbackCall(funcId, meta);
                break;
            case FuncTimerSetCallback:
                PushAsyncCallback(meta);
                break;
        }

        // reset caller saved regs
        for (int i = 0; i <= 5; i++)
        {
            Reg(i) = RegState.NotInit;
            MarkRegScratched(i);
        }

        ref var r0 = ref Reg(0);
        var retFlags = fn.RetFlags;
        switch (fn.Ret)
        {
            case RetType.Integer:
                r0 = RegState.UnknownScalar;
                break;
            case RetType.Void:
                r0 = RegState.NotInit;
                break;
            case RetType.PtrToMapValue:
            {
                if (meta.MapIndex < 0)
                {
                    Fail(RejectKind.Invalid, "kernel subsystem misconfigured verifier");
                }

                var map = Maps[meta.MapIndex];
                // a lookup in an array with a constant in-range key cannot fail (can_elide_value_nullness)
                if (funcId == FuncMapLookupElem && map.Type is MapType.Array or MapType.PercpuArray &&
                    meta.ConstMapKey >= 0 && meta.ConstMapKey < map.MaxEntries)
                {
                    retFlags &= ~RegTypeFlags.MaybeNull;
                }

                r0 = RegState.Pointer(RegType.PtrToMapValue, retFlags);
                r0.MapIndex = meta.MapIndex;
                if ((retFlags & RegTypeFlags.MaybeNull) == 0 && map.SpinLockOffset >= 0)
                {
                    r0.Id = NewId();
                }

                break;
            }

            case RetType.PtrToSocket:
                r0 = RegState.Pointer(RegType.PtrToSocket, retFlags);
                break;
            case RetType.PtrToSockCommon:
                r0 = RegState.Pointer(RegType.PtrToSockCommon, retFlags);
                break;
            case RetType.PtrToTcpSock:
                r0 = RegState.Pointer(RegType.PtrToTcpSock, retFlags);
                break;
            case RetType.PtrToMem:
                r0 = RegState.Pointer(RegType.PtrToMem, retFlags);
                r0.MemSize = meta.MemSize;
                break;
            case RetType.PtrToBtfId:
            case RetType.PtrToMemOrBtfId:
                r0 = RegState.Pointer(RegType.PtrToBtfId, retFlags);
                r0.BtfType = fn.RetBtfType;
                KptrHelperRet(funcId, ref r0);
                break;
            default:
                Fail(RejectKind.Invalid, "unknown return type {0} of func {1}#{2}", (int)fn.Ret, name, funcId);
                break;
        }

        if (r0.MaybeNull)
        {
            r0.Id = NewId();
        }

        if (fn.IsPtrCast || funcId == FuncDynptrData)
        {
            r0.RefObjId = meta.RefObjId;
        }
        else if (fn.AcquiresReference ||
                 (funcId == FuncMapLookupElem && meta.MapIndex >= 0 && Maps[meta.MapIndex].Type is MapType.Sockmap or MapType.Sockhash))
        {
            int id = NewId();
            _cur.Refs.Add(new RefState(id, _insnIdx, RefKind.Ptr));
            r0.Id = id;
            r0.RefObjId = id;
        }

        // do_refine_retval_range()
        if (funcId == FuncGetSmpProcessorId)
        {
            ulong max = (ulong)(Environment.ProcessorCount - 1);
            r0.Bounds = ScalarBounds.FromURange(0, max);
        }
        else if (funcId is 45 or 67 or 114 or 115 or 141 && fn.Ret == Helpers.RetType.Integer && r0.Type == RegType.Scalar)
        {
            // probe_read_str, get_stack, probe_read_user_str, probe_read_kernel_str, get_task_stack: at most the
            // buffer's size, or a negative errno (-MAX_ERRNO)
            const int MaxErrno = 4095;
            r0.Bounds.SMax = (long)meta.MsizeMaxValue;
            r0.Bounds.S32Max = (int)meta.MsizeMaxValue;
            r0.Bounds.SMin = -MaxErrno;
            r0.Bounds.S32Min = -MaxErrno;
            r0.Bounds.Sync();
        }

        if (meta.MapIndex >= 0 && MapFuncCompatibility.Check(Prog.Type, Maps[meta.MapIndex].Type, funcId) is { } incompatible)
        {
            foreach (string line in incompatible.Split('\n'))
            {
                Error(line);
            }

            FailLogged(RejectKind.Invalid);
        }

        bool changesData = fn.ChangesPktData;
        if (funcId == FuncTailCall)
        {
            // kernel (6.18.y): a tail call that fails goes on after the call, untouched; one that succeeds never returns
            // here. From a subprogram, the success is modelled as a return to the caller with R0 unknown and the
            // packet possibly changed (the tail-called program may have changed it); the failure is the pushed branch.
            if (_cur.CurFrame > 0)
            {
                MarkRegScratched(0);
                PushBranch(_insnIdx + 1, _insnIdx);
                ClearAllPktPointers();
                MarkRegUnknown(ref Reg(0));
                StackLive.UpdateLiveStack(_cur); // upstream's fix; see Verifier.Liveness.cs
                PrepareFuncExit();
                // the caller's step after the call lands on the instruction after the subprogram's call
                _insnIdx--;
            }

            changesData = false;
        }

        if (changesData)
        {
            ClearAllPktPointers();
        }
    }

    // kernel: resolve_map_arg_type(): a sockmap or sockhash value is a socket (bpf_map_update_elem(sockmap, key, sk))
    private HelperArg ResolveMapArgType(HelperArg a, in CallMeta meta)
    {
        if (meta.MapIndex < 0)
        {
            Fail(RejectKind.Access, "invalid map_ptr to access map->type");
        }

        if (Maps[meta.MapIndex].Type is MapType.Sockmap or MapType.Sockhash)
        {
            if (a.Flags != 0)
            {
                Fail(RejectKind.Invalid, "invalid arg_type for sockmap/sockhash");
            }

            return a with { Type = ArgType.PtrToBtfIdSockCommon, BtfType = "sock_common" };
        }

        return a;
    }

    // kernel: check_func_arg()
    private void CheckFuncArg(int arg, ref CallMeta meta, HelperProto fn)
    {
        int regno = 1 + arg;
        var a = fn.Args[arg];
        if (a.Type == ArgType.DontCare)
        {
            return;
        }

        CheckRegRead(regno);
        if (a.Type == ArgType.Anything)
        {
            return; // root: pointers may be passed as numbers
        }

        if (a.Type == ArgType.PtrToMapValue)
        {
            a = ResolveMapArgType(a, meta);
        }

        var reg = Reg(regno);
        if (reg.IsPktPointer && !(fn.PktAccess && (Prog.Ctx?.MayAccessDirectPacketData(Context.CtxAccessType.Read) ?? false)))
        {
            Fail(RejectKind.Access, "helper access to the packet is not allowed");
        }

        bool argMaybeNull = a.MaybeNull;
        if (!(reg.IsNull && argMaybeNull))
        {
            CheckRegType(regno, a, fn);
            CheckFuncArgRegOff(reg, regno, a);
        }

        if (a.Releases)
        {
            if (reg.RefObjId == 0 && !reg.IsNull)
            {
                Fail(RejectKind.Invalid, "R{0} must be referenced when passed to release function", regno);
            }

            meta.ReleaseRegno = regno;
        }

        if (reg.RefObjId != 0)
        {
            if (meta.RefObjId != 0)
            {
                Fail(RejectKind.Access, "more than one arg with ref_obj_id R{0} {1} {2}", regno, reg.RefObjId, meta.RefObjId);
            }

            meta.RefObjId = reg.RefObjId;
        }

        bool write = a.Writes;
        switch (a.Type)
        {
            case ArgType.ConstMapPtr:
                meta.MapIndex = reg.MapIndex;
                break;
            case ArgType.PtrToMapKey:
            {
                var map = Maps[meta.MapIndex];
                CheckHelperMemAccess(regno, (int)map.KeySize, write: false, zeroSizeAllowed: false, ref meta, raw: false);
                if (map.Type is MapType.Array or MapType.PercpuArray)
                {
                    meta.ConstMapKey = ConstantMapKey(reg, (int)map.KeySize);
                }

                break;
            }

            case ArgType.PtrToMapValue:
            {
                if (argMaybeNull && reg.IsNull)
                {
                    return;
                }

                var map = Maps[meta.MapIndex];
                CheckHelperMemAccess(regno, (int)map.ValueSize, write, zeroSizeAllowed: false, ref meta, raw: a.Uninit);
                break;
            }

            case ArgType.PtrToFunc:
                meta.Subprogno = reg.Subprogno;
                break;
            case ArgType.PtrToSpinLock:
                ProcessSpinLock(regno, lockIt: fn.Id == FuncSpinLock);
                break;
            case ArgType.PtrToMem:
                if (a.FixedSize)
                {
                    if (!(argMaybeNull && reg.IsNull))
                    {
                        CheckHelperMemAccess(regno, a.Size, write, zeroSizeAllowed: false, ref meta, raw: a.Uninit);
                    }
                }
                else
                {
                    meta.RawMode = a.Uninit;
                }

                break;
            case ArgType.ConstSize:
            case ArgType.ConstSizeOrZero:
                CheckMemSizeReg(reg, regno, fn.Args[arg - 1].Writes, a.Type == ArgType.ConstSizeOrZero, ref meta);
                break;
            case ArgType.ConstAllocSizeOrZero:
                if (!reg.Bounds.VarOff.IsConst)
                {
                    Fail(RejectKind.Access, "R{0} is not a known constant'", regno);
                }

                meta.MemSize = (int)reg.Bounds.VarOff.Value;
                MarkChainPrecision(regno);
                break;
            case ArgType.PtrToConstStr:
                CheckRegConstStr(reg, regno);
                break;
            case ArgType.KptrXchgDest:
                ProcessKptrFunc(regno);
                break;
            case ArgType.PtrToPercpuBtfId:
                RecordPercpuArg(reg);
                break;
        }
    }

    // kernel: get_constant_map_key(): the key is a constant spilled to the stack, or -1
    private long ConstantMapKey(in RegState key, int keySize)
    {
        if (key.Type != RegType.PtrToStack || !key.Bounds.VarOff.IsConst || keySize > 8)
        {
            return -1;
        }

        int off = key.Off + (int)(long)key.Bounds.VarOff.Value;
        int spi = (-off - 1) / 8;
        var state = _cur.Frames[key.Frameno]!;
        if (spi < 0 || spi >= state.AllocatedStack / 8)
        {
            return -1;
        }

        var slot = state.Stack[spi];
        int slotOff = ((off % 8) + 8) % 8;
        bool allZero = true;
        for (int i = 0; i < keySize; i++)
        {
            int b = slotOff + i;
            if (b >= 8 || slot.Types[7 - b] != SlotType.Zero)
            {
                allZero = false;
                break;
            }
        }

        if (allZero)
        {
            return 0;
        }

        if (!slot.IsSpill || slot.Spilled.Type != RegType.Scalar || !slot.Spilled.Bounds.VarOff.IsConst || slotOff != 0)
        {
            return -1;
        }

        // the spill must cover the key (spill size >= key size)
        int spillSize = 0;
        for (int i = 7; i >= 0 && slot.Types[i] == SlotType.Spill; i--)
        {
            spillSize++;
        }

        if (spillSize < keySize)
        {
            return -1;
        }

        ulong v = slot.Spilled.Bounds.VarOff.Value;
        // the lookup's nullness now depends on the key's value
        MarkChainPrecisionStack(key.Frameno, spi);
        return keySize >= 8 ? (long)v : (long)(v & ((1UL << (keySize * 8)) - 1));
    }

    private static readonly (RegType Type, RegTypeFlags Flags)[] s_memTypes =
    [
        (RegType.PtrToStack, 0), (RegType.PtrToPacket, 0), (RegType.PtrToPacketMeta, 0), (RegType.PtrToMapKey, 0),
        (RegType.PtrToMapValue, 0), (RegType.PtrToMem, 0), (RegType.PtrToMem, RegTypeFlags.MemRingbuf),
        (RegType.PtrToBuf, 0), (RegType.PtrToBtfId, RegTypeFlags.PtrTrusted),
    ];

    private static readonly (RegType, RegTypeFlags)[] s_sockTypes =
        [(RegType.PtrToSockCommon, 0), (RegType.PtrToSocket, 0), (RegType.PtrToTcpSock, 0), (RegType.PtrToXdpSock, 0)];

    private static readonly (RegType, RegTypeFlags)[] s_btfIdSockCommonTypes =
    [
        (RegType.PtrToSockCommon, 0), (RegType.PtrToSocket, 0), (RegType.PtrToTcpSock, 0), (RegType.PtrToXdpSock, 0),
        (RegType.PtrToBtfId, 0), (RegType.PtrToBtfId, RegTypeFlags.PtrTrusted),
    ];

    // kernel: compatible_reg_types[]
    private static (RegType Type, RegTypeFlags Flags)[] CompatibleTypes(ArgType t) => t switch
    {
        ArgType.PtrToMapKey or ArgType.PtrToMapValue or ArgType.PtrToMem => s_memTypes,
        ArgType.ConstSize or ArgType.ConstSizeOrZero or ArgType.ConstAllocSizeOrZero => [(RegType.Scalar, 0)],
        ArgType.ConstMapPtr => [(RegType.ConstPtrToMap, 0)],
        ArgType.PtrToCtx => [(RegType.PtrToCtx, 0)],
        ArgType.PtrToSockCommon => s_sockTypes,
        ArgType.PtrToBtfIdSockCommon => s_btfIdSockCommonTypes,
        ArgType.PtrToSocket => [(RegType.PtrToSocket, 0)],
        ArgType.PtrToBtfId => [(RegType.PtrToBtfId, 0), (RegType.PtrToBtfId, RegTypeFlags.PtrTrusted), (RegType.PtrToBtfId, RegTypeFlags.MemRcu)],
        ArgType.PtrToSpinLock => [(RegType.PtrToMapValue, 0), (RegType.PtrToBtfId, RegTypeFlags.MemAlloc)],
        ArgType.PtrToRingbufMem => [(RegType.PtrToMem, RegTypeFlags.MemRingbuf)],
        ArgType.PtrToFunc => [(RegType.PtrToFunc, 0)],
        ArgType.PtrToStack => [(RegType.PtrToStack, 0)],
        ArgType.PtrToConstStr => [(RegType.PtrToMapValue, 0)],
        ArgType.PtrToTimer => [(RegType.PtrToMapValue, 0)],
        ArgType.PtrToDynptr => [(RegType.PtrToStack, 0), (RegType.ConstPtrToDynptr, 0)],
        ArgType.KptrXchgDest => s_kptrXchgDestTypes,
        ArgType.PtrToPercpuBtfId => s_percpuBtfPtrTypes,
        _ => [],
    };

    // kernel: check_reg_type()
    private void CheckRegType(int regno, HelperArg arg, HelperProto fn)
    {
        var reg = Reg(regno);
        var compatible = CompatibleTypes(arg.Type);
        if (compatible.Length == 0)
        {
            Fail(RejectKind.NotSupported, "helper {0} argument type {1} is not modelled by this verifier", fn.LogName, arg.Type);
        }

        var flags = reg.Flags;
        if ((arg.Flags & RegTypeFlags.MemRdonly) != 0)
        {
            flags &= ~RegTypeFlags.MemRdonly;
        }

        if (arg.MaybeNull)
        {
            flags &= ~RegTypeFlags.MaybeNull;
        }

        if (arg.Type == ArgType.PtrToMem)
        {
            flags &= ~(RegTypeFlags.DynptrTypeLocal | RegTypeFlags.DynptrTypeRingbuf | RegTypeFlags.DynptrTypeSkb |
                       RegTypeFlags.DynptrTypeXdp | RegTypeFlags.DynptrTypeSkbMeta);
        }

        flags = KptrXchgArgFlags(fn.Id, regno, flags);
        foreach (var (t, f) in compatible)
        {
            if (reg.Type == t && flags == f)
            {
                if (fn.Id == FuncKptrXchg && regno == 2)
                {
                    MapKptrMatchType(regno);
                }

                return;
            }
        }

        var text = new System.Text.StringBuilder();
        for (int j = 0; j < compatible.Length; j++)
        {
            if (j > 0)
            {
                text.Append(", ");
            }

            text.Append(RegTypeText(compatible[j].Type, compatible[j].Flags));
        }

        Fail(RejectKind.Access, Msg.RegTypeExpected, regno, RegTypeText(reg), text.ToString());
    }

    // kernel: check_func_arg_reg_off()
    private void CheckFuncArgRegOff(in RegState reg, int regno, HelperArg arg)
    {
        if (arg.Releases)
        {
            if (reg.Off != 0)
            {
                Fail(RejectKind.Invalid, "R{0} must have zero offset when passed to release func or trusted arg to kfunc", regno);
            }

            CheckPtrOffReg(reg, regno, fixedOffOk: false);
            return;
        }

        switch (reg.Type)
        {
            case RegType.PtrToStack:
            case RegType.PtrToPacket:
            case RegType.PtrToPacketMeta:
            case RegType.PtrToMapKey:
            case RegType.PtrToMapValue:
            case RegType.PtrToMem:
            case RegType.PtrToBuf:
            case RegType.PtrToArena:
            case RegType.Scalar:
                return;
            case RegType.PtrToBtfId:
                CheckPtrOffReg(reg, regno, fixedOffOk: true);
                return;
            default:
                CheckPtrOffReg(reg, regno, fixedOffOk: false);
                return;
        }
    }

    // kernel: check_helper_mem_access()
    private void CheckHelperMemAccess(int regno, int accessSize, bool write, bool zeroSizeAllowed, ref CallMeta meta, bool raw)
    {
        var reg = Reg(regno);
        switch (reg.Type)
        {
            case RegType.PtrToPacket:
            case RegType.PtrToPacketMeta:
                CheckPacketAccess(regno, reg.Off, accessSize, zeroSizeAllowed);
                return;
            case RegType.PtrToMapKey:
                if (write)
                {
                    Fail(RejectKind.Access, Msg.CannotWriteInto, regno, RegTypeText(reg));
                }

                CheckMemRegionAccess(regno, reg.Off, accessSize, (int)MapOf(reg).KeySize, false);
                return;
            case RegType.PtrToMapValue:
                CheckMapAccessType(MapOf(reg), reg.Off, accessSize, write ? Access.Write : Access.Read);
                CheckMapAccess(regno, reg.Off, accessSize, zeroSizeAllowed, helper: true);
                return;
            case RegType.PtrToMem:
                if ((reg.Flags & RegTypeFlags.MemRdonly) != 0 && write)
                {
                    Fail(RejectKind.Access, Msg.CannotWriteInto, regno, RegTypeText(reg));
                }

                CheckMemRegionAccess(regno, reg.Off, accessSize, reg.MemSize, zeroSizeAllowed);
                return;
            case RegType.PtrToStack:
                CheckStackRangeInitialized(regno, reg.Off, accessSize, zeroSizeAllowed, write, ref meta, raw);
                return;
            default:
                if (zeroSizeAllowed && accessSize == 0 && reg.IsNull)
                {
                    return;
                }

                Fail(RejectKind.Access, "R{0} type={1} expected={2}", regno, RegTypeText(reg), "fp");
                return;
        }
    }

    // kernel: check_stack_range_initialized()
    private void CheckStackRangeInitialized(int regno, int off, int accessSize, bool zeroSizeAllowed, bool write,
        ref CallMeta meta, bool raw)
    {
        var reg = Reg(regno);
        if (accessSize == 0 && !zeroSizeAllowed)
        {
            Fail(RejectKind.Access, "invalid zero-sized read");
        }

        CheckStackAccessWithinBounds(regno, off, accessSize, write ? " write to" : " read from");
        var state = _cur.Frames[reg.Frameno]!;
        int minOff, maxOff;
        bool rawMode = raw || meta.RawMode;
        if (reg.Bounds.VarOff.IsConst)
        {
            minOff = maxOff = (int)(long)reg.Bounds.VarOff.Value + off;
        }
        else
        {
            rawMode = false; // a variable offset needs initialised memory
            minOff = (int)reg.Bounds.SMin + off;
            maxOff = (int)reg.Bounds.SMax + off;
        }

        if (rawMode)
        {
            meta.AccessSize = accessSize;
            meta.RawRegno = regno;
            return;
        }

        for (int i = minOff; i < maxOff + accessSize; i++)
        {
            int slot = -i - 1, spi = slot / 8;
            ref var st = ref state.Stack[spi];
            ref var stype = ref st.Types[slot % 8];
            if (stype == SlotType.Misc)
            {
                MarkStackRead(reg.Frameno, spi); // mark:
                continue;
            }

            if (stype is SlotType.Zero or SlotType.Invalid)
            {
                if (write)
                {
                    stype = SlotType.Misc;
                }

                MarkStackRead(reg.Frameno, spi);
                continue;
            }

            if (st.IsSpill)
            {
                if (write)
                {
                    st.Spilled = RegState.UnknownScalar;
                    for (int j = 0; j < 8; j++)
                    {
                        st.Types[j] = ScrubSlot(st.Types[j]);
                    }
                }

                MarkStackRead(reg.Frameno, spi);
                continue;
            }

            if (reg.Bounds.VarOff.IsConst)
            {
                Fail(RejectKind.Access, "invalid read from stack R{0} off {1}+{2} size {3}", regno, minOff, i - minOff, accessSize);
            }

            Fail(RejectKind.Access, "invalid read from stack R{0} var_off {1}+{2} size {3}", regno, TnumText(reg.Bounds.VarOff), i - minOff, accessSize);
        }
    }

    // kernel: check_mem_size_reg()
    private void CheckMemSizeReg(in RegState reg, int regno, bool write, bool zeroSizeAllowed, ref CallMeta meta)
    {
        meta.MsizeMaxValue = reg.Bounds.UMax;
        bool raw = meta.RawMode && reg.Bounds.VarOff.IsConst;
        if (reg.Bounds.SMin < 0)
        {
            Fail(RejectKind.Access, "R{0} min value is negative, either use unsigned or 'var &= const'", regno);
        }

        if (reg.Bounds.UMin == 0 && !zeroSizeAllowed)
        {
            Fail(RejectKind.Access, "R{0} invalid zero-sized read: u64=[{1},{2}]", regno, (long)reg.Bounds.UMin, reg.Bounds.UMax);
        }

        if (reg.Bounds.UMax >= MaxVarSiz)
        {
            Fail(RejectKind.Access, "R{0} unbounded memory access, use 'var &= const' or 'if (var < const)'", regno);
        }

        var m = meta;
        m.RawMode = raw;
        CheckHelperMemAccess(regno - 1, (int)reg.Bounds.UMax, write, zeroSizeAllowed, ref m, raw);
        meta.AccessSize = m.AccessSize;
        meta.RawRegno = m.RawRegno;
        MarkChainPrecision(regno);
    }

    // kernel: check_reg_const_str(): a frozen map value holding a NUL-terminated string
    private void CheckRegConstStr(in RegState reg, int regno)
    {
        var map = MapOf(reg);
        if (!map.Frozen)
        {
            Fail(RejectKind.Access, "R{0} does not point to a readonly map'", regno);
        }

        if (!reg.Bounds.VarOff.IsConst)
        {
            Fail(RejectKind.Access, "R{0} is not a constant address'", regno);
        }

        long off = reg.Off + (long)reg.Bounds.VarOff.Value;
        var data = map.InitialData ?? [];
        int end = off >= 0 && off < data.Length ? Array.IndexOf(data, (byte)0, (int)off) : -1;
        if (end < 0)
        {
            Fail(RejectKind.Access, "string is not zero-terminated");
        }
    }

    // kernel: process_spin_lock()
    private void ProcessSpinLock(int regno, bool lockIt)
    {
        var reg = Reg(regno);
        if (reg.Type != RegType.PtrToMapValue)
        {
            return;
        }

        var map = MapOf(reg);
        if (!reg.Bounds.VarOff.IsConst)
        {
            Fail(RejectKind.Invalid, "R{0} doesn't have constant offset. bpf_spin_lock has to be at the constant offset", regno);
        }

        if (map.SpinLockOffset < 0)
        {
            Fail(RejectKind.Invalid, "map '{0}' has no valid bpf_spin_lock", KernelMapName(map.Name));
        }

        long val = (long)reg.Bounds.VarOff.Value + reg.Off;
        if (val != map.SpinLockOffset)
        {
            Fail(RejectKind.Invalid, "off {0} doesn't point to 'struct bpf_spin_lock' that is at {1}", val, map.SpinLockOffset);
        }

        if (lockIt)
        {
            if (_cur.ActiveLockId != 0)
            {
                Fail(RejectKind.Invalid, "Locking two bpf_spin_locks are not allowed");
            }

            _cur.ActiveLockId = reg.Id == 0 ? NewId() : reg.Id;
            _cur.ActiveLockMap = reg.MapIndex;
            _cur.Refs.Add(new RefState(_cur.ActiveLockId, _insnIdx, RefKind.Lock));
        }
        else
        {
            if (_cur.ActiveLockId == 0)
            {
                Fail(RejectKind.Invalid, "bpf_spin_unlock without taking a lock");
            }

            if (_cur.ActiveLockMap != reg.MapIndex || (reg.Id != 0 && reg.Id != _cur.ActiveLockId))
            {
                Fail(RejectKind.Invalid, "bpf_spin_unlock of different lock");
            }

            int id = _cur.ActiveLockId;
            _cur.Refs.RemoveAll(r => r.Id == id && r.Kind == RefKind.Lock);
            _cur.ActiveLockId = 0;
            _cur.ActiveLockMap = -1;
        }
    }

    // kernel: release_reference(): the reference ends, and every copy of the pointer becomes unusable
    private void ReleaseReference(int refObjId)
    {
        _cur.Refs.RemoveAll(r => r.Id == refObjId && r.Kind == RefKind.Ptr);
        ForEachReg(_cur, (ref RegState r) =>
        {
            if (r.RefObjId == refObjId)
            {
                r = RegState.UnknownScalar;
            }
        });
    }

    // kernel: clear_all_pkt_pointers()
    private void ClearAllPktPointers()
    {
        ForEachReg(_cur, (ref RegState r) =>
        {
            if (r.IsPktPointerAny())
            {
                r = RegState.UnknownScalar;
            }
        });
    }

    // kernel: check_resource_leak()
    private void CheckResourceLeak(bool checkLock, string prefix)
    {
        if (checkLock && _cur.ActiveLockId != 0)
        {
            Fail(RejectKind.Invalid, Msg.CannotBeUsedInLock, prefix);
        }

        bool leak = false;
        foreach (var r in _cur.Refs)
        {
            if (r.Kind == RefKind.Ptr)
            {
                Error(Msg.UnreleasedReference, r.Id, r.InsnIdx);
                leak = true;
            }
        }

        if (leak)
        {
            Fail(RejectKind.Invalid, Msg.WouldLeak, prefix);
        }
    }

    // the exit of a function: true when the path ended (main function)
    private bool ProcessExit(ref bool doPrintState)
    {
        bool main = _cur.CurFrame == 0;
        if (main)
        {
            CheckResourceLeak(checkLock: true, Msg.ExitInMainProg);
        }
        else if (_cur.ActiveLockId != 0)
        {
            Fail(RejectKind.Invalid, Msg.CannotBeUsedInLock, "BPF_EXIT instruction in main prog");
        }

        if (!main)
        {
            // process_bpf_exit_full(): the callee's instance is recomputed (and its marks reach the caller's) first
            StackLive.UpdateLiveStack(_cur);
            PrepareFuncExit();
            doPrintState = true;
            return false;
        }

        // check_return_code(): R0 must have been written (and be a scalar when a global function returns; 0 when a
        // timer callback does)
        CheckRegRead(0);
        if (Func.InAsyncCallbackFn)
        {
            CheckAsyncCallbackReturn();
            return true;
        }

        CheckGlobalFuncReturn();
        return true;
    }

    // kernel: check_func_call() / __check_func_call() for a BPF-to-BPF call
    private void CheckFuncCall(Instruction insn)
    {
        int target = _insnIdx + insn.Imm + 1;
        int subprog = FindSubprog(target);
        if (subprog < 0)
        {
            Fail(RejectKind.Invalid, "verifier bug. No program starts at insn {0}", target);
        }

        if (CheckGlobalFuncCall(subprog))
        {
            return; // a global callee is checked against its BTF prototype, not explored here (Verifier.Global.cs)
        }

        if (_cur.CurFrame + 1 >= VerifierState.MaxCallFrames)
        {
            Fail(RejectKind.TooComplex, Msg.CallStackTooDeep, _cur.CurFrame + 2);
        }

        var caller = Func;
        var callee = new FuncState { Frameno = _cur.CurFrame + 1, Subprogno = subprog, CallSite = _insnIdx };
        InitRegs(callee);
        for (int i = 1; i <= 5; i++)
        {
            callee.Regs[i] = caller.Regs[i];
        }

        // clear_caller_saved_regs() comes before the state is printed
        for (int i = 0; i <= 5; i++)
        {
            caller.Regs[i] = RegState.NotInit;
        }

        _cur.Frames[_cur.CurFrame + 1] = callee;
        _cur.CurFrame++;
        if (_log.IsLevel1Or2)
        {
            _log.Write("caller:\n");
            PrintVerifierState(_cur, _cur.CurFrame - 1, printAll: true);
            _log.Write("callee:\n");
            PrintVerifierState(_cur, _cur.CurFrame, printAll: true);
        }

        MarkAllScratched();

        _insnIdx = Cfg.Subprogs[subprog].Start;
        StackLive.ResetLiveStackCallchain();
    }

    private int FindSubprog(int start)
    {
        var subs = Cfg.Subprogs;
        for (int i = 0; i < subs.Count; i++)
        {
            if (subs[i].Start == start)
            {
                return i;
            }
        }

        return -1;
    }

    // kernel: push_callback_call(): the callback runs as a nested frame, explored as a branch of its own that
    // starts with this frame's callback_depth one higher (and callback_unroll_depth, so that iterations are not
    // taken for an infinite loop); the caller's path continues after the call. The callback's exit comes back to
    // this call (PrepareFuncExit), which pushes the next iteration until is_state_visited() prunes one.
    private void PushCallbackCall(int funcId, CallMeta meta)
    {
        int subprog = meta.Subprogno;
        if (subprog < 0)
        {
            Fail(RejectKind.Invalid, "verifier bug: callback without a function");
        }

        if (_cur.CurFrame + 1 >= VerifierState.MaxCallFrames)
        {
            Fail(RejectKind.TooComplex, Msg.CallStackTooDeep, _cur.CurFrame + 2);
        }

        var branch = PushBranch(_insnIdx, _insnIdx, errno: "ENOMEM");
        branch.CallbackUnrollDepth++; // callback_unroll_depth: another iteration, not the same state looping
        var caller = branch.Cur;
        caller.CallbackDepth++;
        Func.CallbackDepth = 0;
        var callee = new FuncState
        {
            Frameno = branch.CurFrame + 1,
            Subprogno = subprog,
            CallSite = _insnIdx,
            InCallbackFn = true,
            CallbackRetRange = (0, 1),
        };
        InitRegs(callee);
        MarkAllScratched(); // init_func_state() scratches the whole state: the next insn line prints it all
        if (funcId == FuncLoop)
        {
            // set_loop_callback_state(): R1 = index, R2 = callback_ctx
            callee.Regs[1] = RegState.UnknownScalar;
            callee.Regs[2] = caller.Regs[3];
        }
        else if (funcId == FuncFindVma)
        {
            // set_find_vma_callback_state(): R1 = the task, R2 = the vm_area_struct (a BTF pointer), R3 =
            // callback_ctx (the caller's R4)
            callee.Regs[1] = caller.Regs[1];
            callee.Regs[2] = RegState.Pointer(RegType.PtrToBtfId);
            callee.Regs[2].BtfType = "vm_area_struct";
            callee.Regs[3] = caller.Regs[4];
        }
        else if (funcId == FuncUserRingbufDrain)
        {
            // set_user_ringbuf_callback_state(): R1 = a const pointer to a local dynptr over the sample (mark_dynptr_cb_reg,
            // a new id), R2 = callback_ctx
            callee.Regs[1] = RegState.Pointer(RegType.ConstPtrToDynptr, RegTypeFlags.DynptrTypeLocal);
            callee.Regs[1].Id = NewId();
            callee.Regs[1].DynptrFirstSlot = true;
            callee.Regs[2] = caller.Regs[3];
        }
        else
        {
            // set_map_elem_callback_state(): R1 = map, R2 = key, R3 = value, R4 = callback_ctx
            var map = caller.Regs[1];
            callee.Regs[1] = map;
            callee.Regs[2] = RegState.Pointer(RegType.PtrToMapKey);
            callee.Regs[2].MapIndex = map.MapIndex;
            callee.Regs[3] = RegState.Pointer(RegType.PtrToMapValue);
            callee.Regs[3].MapIndex = map.MapIndex;
            callee.Regs[4] = caller.Regs[3];
        }

        branch.Frames[branch.CurFrame + 1] = callee;
        branch.CurFrame++;
        _branches.Pop();
        _branches.Push(new PendingBranch(branch, Cfg.Subprogs[subprog].Start, _insnIdx, _log.Position));
    }

    private bool HasFuncInfo()
    {
        foreach (var f in Functions)
        {
            if (f.HasBtf)
            {
                return true;
            }
        }

        return false;
    }

    // kernel: push_callback_call() for an async callback (bpf_timer_set_callback): no real call happens here; the
    // callback runs later, on its own, so it is verified as a separate state whose only frame (frame 0) is the
    // callback (push_async_cb(), init_func_state(BPF_MAIN_FUNC)), with set_timer_callback_state()'s arguments: R1 =
    // the timer's map, R2 = a key of it, R3 = its value. Its exit is a program exit whose R0 must be 0.
    private void PushAsyncCallback(CallMeta meta)
    {
        int subprog = meta.Subprogno;
        if (subprog < 0)
        {
            Fail(RejectKind.Invalid, "verifier bug: callback without a function");
        }

        int mapIndex = Reg(1).MapIndex;
        int start = Cfg.Subprogs[subprog].Start;
        var state = new VerifierState { FirstInsnIdx = start };
        var callee = new FuncState { Frameno = 0, Subprogno = subprog, CallSite = -1, InAsyncCallbackFn = true, CallbackRetRange = (0, 0) };
        InitRegs(callee);
        callee.Regs[1] = RegState.Pointer(RegType.ConstPtrToMap);
        callee.Regs[1].MapIndex = mapIndex;
        callee.Regs[2] = RegState.Pointer(RegType.PtrToMapKey);
        callee.Regs[2].MapIndex = mapIndex;
        callee.Regs[3] = RegState.Pointer(RegType.PtrToMapValue);
        callee.Regs[3].MapIndex = mapIndex;
        state.Frames[0] = callee;
        PushPending(state, start, _insnIdx, errno: "EFAULT");
    }

    // kernel: check_return_code() for an async callback's exit: R0 a scalar (precise) within callback_ret_range.
    private void CheckAsyncCallbackReturn()
    {
        var r0 = Reg(0);
        if (r0.Type != RegType.Scalar)
        {
            Fail(RejectKind.Invalid, "At async callback return the register R0 is not a known value ({0})", RegTypeText(r0));
        }

        MarkChainPrecision(0);
        r0 = Reg(0);
        var range = Func.CallbackRetRange;
        if (r0.Bounds.SMin < range.Min || r0.Bounds.SMax > range.Max)
        {
            // verbose_invalid_scalar()
            var has = new System.Text.StringBuilder();
            if (r0.Bounds.SMin > long.MinValue)
            {
                has.Append(CultureInfo.InvariantCulture, $" smin={r0.Bounds.SMin}");
            }

            if (r0.Bounds.SMax < long.MaxValue)
            {
                has.Append(CultureInfo.InvariantCulture, $" smax={r0.Bounds.SMax}");
            }

            if (has.Length == 0)
            {
                has.Append(" unknown scalar value");
            }

            Fail(RejectKind.Invalid, "At async callback return the register R0 has{0} should have been in [{1}, {2}]", has.ToString(), range.Min, range.Max);
        }
    }

    // kernel: prepare_func_exit()
    private void PrepareFuncExit()
    {
        var callee = Func;
        var r0 = callee.Regs[0];
        if (r0.Type == RegType.PtrToStack)
        {
            // any stack pointer, even the caller's own (the kernel is conservative here)
            Fail(RejectKind.Invalid, "cannot return stack pointer to the caller");
        }

        var caller = _cur.Frames[_cur.CurFrame - 1]!;
        if (callee.InCallbackFn)
        {
            // enforce R0 return value range
            MarkChainPrecision(0);
            r0 = callee.Regs[0];
            var range = callee.CallbackRetRange;
            if (r0.Type != RegType.Scalar || r0.Bounds.SMin < range.Min || r0.Bounds.SMax > range.Max)
            {
                string has = r0.Type == RegType.Scalar
                    ? $"smin={r0.Bounds.SMin} smax={r0.Bounds.SMax}"
                    : RegTypeText(r0);
                Error(Msg.CallbackRetRange, has);
                Fail(RejectKind.Invalid, "should have been in [{0}, {1}]", range.Min, range.Max);
            }

            // the caller's R0 stays as it was at the call: the call instruction runs again
        }
        else
        {
            caller.Regs[0] = r0;
        }

        if (_log.IsLevel1Or2)
        {
            // a callback goes back to its call instruction (the next iteration starts there)
            int to = callee.InCallbackFn ? callee.CallSite : callee.CallSite + 1;
            _log.Write("returning from callee:\n");
            PrintVerifierState(_cur, _cur.CurFrame, printAll: true);
            _log.Write(string.Create(CultureInfo.InvariantCulture, $"to caller at {to}:\n"));
            PrintVerifierState(_cur, _cur.CurFrame - 1, printAll: true);
        }

        _cur.Frames[_cur.CurFrame] = null;
        _cur.CurFrame--;
        if (callee.InCallbackFn)
        {
            // bpf_loop, for_each_map_elem, user_ringbuf_drain go back to the call instruction: check_helper_call()
            // pushes the next iteration there, and is_state_visited() prunes an iteration once the caller's state
            // falls within (RANGE_WITHIN) one an earlier iteration reached the call with. Imprecise scalars that
            // changed since that earlier state are forgotten first so that the iterations converge.
            _insnIdx = callee.CallSite;
            WidenImpreciseScalarsAtCallback(callee.CallSite);
            return;
        }

        // a static callee returns to the instruction after the call
        _insnIdx = callee.CallSite + 1;
    }

    // kernel: check_ld_imm() and check_ld_abs()
    private void CheckLd(Instruction insn)
    {
        if (insn.IsLdImm64)
        {
            if (insn.MemSize != MemSize.DW)
            {
                Fail(RejectKind.Invalid, "invalid BPF_LD_IMM insn");
            }

            if (insn.Offset != 0)
            {
                Fail(RejectKind.Invalid, "BPF_LD_IMM64 uses reserved fields");
            }

            CheckRegWrite(insn.DstReg, mark: false);
            ref var d = ref Reg(insn.DstReg);
            var next = _insns[_insnIdx + 1];
            switch (insn.SrcReg)
            {
                case 0:
                    d = RegState.KnownScalar(((ulong)(uint)next.Imm << 32) | (uint)insn.Imm);
                    break;
                case 1:
                case 5:
                    d = RegState.Pointer(RegType.ConstPtrToMap);
                    d.MapIndex = CheckMapIndex(insn.Imm);
                    break;
                case 2:
                case 6:
                {
                    int index = CheckMapIndex(insn.Imm);
                    d = RegState.Pointer(RegType.PtrToMapValue);
                    d.MapIndex = index;
                    d.Off = next.Imm;
                    if (Maps[index].Frozen)
                    {
                        d.Flags = 0;
                    }

                    break;
                }

                case 4:
                {
                    // kernel: check_ld_imm() for BPF_PSEUDO_FUNC: a callback needs func_info (and a static function)
                    int target = _insnIdx + insn.Imm + 1;
                    if (!HasFuncInfo())
                    {
                        Fail(RejectKind.Invalid, "missing btf func_info");
                    }

                    d = RegState.Pointer(RegType.PtrToFunc);
                    d.Subprogno = FindSubprog(target);
                    break;
                }

                default:
                    Fail(RejectKind.NotSupported, "ld_imm64 src={0} (kernel variables) is not supported by this verifier", insn.SrcReg);
                    break;
            }

            _insnIdx += 2;
            return;
        }

        // BPF_LD | BPF_ABS / BPF_IND
        if (insn.Mode is not (MemMode.Abs or MemMode.Ind) || insn.MemSize == MemSize.DW || insn.Offset != 0 ||
            (insn.Mode == MemMode.Abs && insn.SrcReg != 0) || insn.DstReg != 0)
        {
            Fail(RejectKind.Invalid, Msg.LdImm64Uses);
        }

        if (Prog.Type is not (Vm.Programs.ProgramType.SocketFilter or Vm.Programs.ProgramType.SchedCls or Vm.Programs.ProgramType.SchedAct))
        {
            Fail(RejectKind.Invalid, Msg.LdAbsNotAllowed);
        }

        CheckRegRead(6);
        if (insn.Mode == MemMode.Ind)
        {
            CheckRegRead(insn.SrcReg);
        }

        if (Reg(6).Type != RegType.PtrToCtx)
        {
            Fail(RejectKind.Invalid, Msg.LdAbsCtx);
        }

        CheckResourceLeak(checkLock: true, "BPF_LD_[ABS|IND]");
        for (int i = 0; i <= 5; i++)
        {
            Reg(i) = RegState.NotInit;
            MarkRegScratched(i);
        }

        // ld_abs loads only up to u32 and zero-extends
        Reg(0) = RegState.UnknownScalar;
        Reg(0).Bounds.CoerceToSize(insn.AccessBytes);
        _insnIdx++;
    }

    private int CheckMapIndex(int index)
    {
        if ((uint)index >= (uint)Maps.Count)
        {
            Fail(RejectKind.Invalid, "fd {0} is not pointing to valid bpf_map", index);
        }

        return index;
    }

    private int InnerMapIndex(int outer)
    {
        var inner = Maps[outer].InnerMap!;
        for (int i = 0; i < _allMaps.Count; i++)
        {
            if (ReferenceEquals(_allMaps[i], inner))
            {
                return i;
            }
        }

        _allMaps.Add(inner);
        return _allMaps.Count - 1;
    }
}
