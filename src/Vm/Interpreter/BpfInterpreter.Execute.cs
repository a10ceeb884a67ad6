using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Memory;
using VethXdp.Vm.Xdp;

namespace VethXdp.Vm.Interpreter;

public sealed unsafe partial class BpfInterpreter
{
    // The main loop: one switch over the decoded opcode (InstructionDecoder; the slots decoded once per program).
    // Semantics follow RFC 9669 (and Linux where it is silent): ALU results are zero-extended to 64 bits, shift counts
    // are masked to the operand width, and division and modulo never trap (BpfMath). pc is a slot index; a 64-bit
    // immediate load takes two.
    // Runs `prog` from `pc` in frame `depth` (already registered, R10 set; `baseDepth` is the frame whose exit ends
    // this loop) until that frame exits, with `executed` instructions already counted; BPF-to-BPF calls go deeper and
    // return here, tail calls replace the program of the current frame, and callbacks that helpers make re-enter this
    // method one frame up.
    // TMode picks the loop: TraceOff counts the budget per straight run (DecodedInstruction.Run is charged where
    // control arrives other than by falling through, so the count is exact at every call, exit and jump); TraceOn
    // reports every instruction to the tracer (begun at the top of its iteration, ended at the top of the next) and
    // counts per instruction; Precise counts per instruction without tracing: TraceOff hands the rest of its run to
    // it when a straight run would cross the budget, so the budget fault (or a fault before it) comes at the same
    // instruction as when counting one by one.
    // Loads and stores inside the current stack frame or the packet (bounds in fields: _stackLo, set when the frame
    // changes, and _pktStart/_pktLen, reloaded after each helper call, the only thing that moves the packet) are plain
    // accesses after one or two compares (a stack store also lowers the frame's floor, see _floors); 4-byte loads
    // inside the context read its fields; anything else goes through the region table (LoadSlow/StoreSlow) with the
    // same result and the same faults.
    // The untraced loop (TraceOff) runs the fused stream (InstructionDecoder.Fuse: a few common pairs of slots in one
    // entry, CodeOf); the loops that count one by one run the plain stream, which has the same entries at the same
    // indices but for the first slots of pairs.
    // The program each frame runs is in _frames[depth].Program (cold paths read it there: the hot loop keeps as few
    // locals as it can, so that the JIT keeps them in registers).
    [SkipLocalsInit]
    private ulong Execute<TMode>(ExecutableProgram prog, int pc, in RegisterFile initial, int baseDepth, int depth, long executed)
        where TMode : struct, ITraceMode
    {
        // A local copy: the JIT addresses it from the frame pointer, without an indirection per register access. Copied
        // one register at a time: the caller has just stored some of them, and one wide load of narrower recent stores
        // stalls (no store forwarding).
        RegisterFile regs;
        Unsafe.SkipInit(out regs);
        if (Unsafe.IsNullRef(in initial))
        {
            // A fresh entry (RunLean): r1 = _entryR1, r10 = the top of frame `depth`, every other register 0.
            regs = default;
            regs[1] = _entryR1;
            regs[10] = FrameStart(depth) + StackSize;
        }
        else
        {
            CopyRegisters(ref regs, in initial);
        }

        ref ulong r = ref Unsafe.As<RegisterFile, ulong>(ref regs);
        DecodedInstruction* code = CodeOf<TMode>(prog);
        DecodedInstruction* d = code + pc;
        SetProgram(depth, prog);
        long budget = _budget;
        long remaining = budget - executed;   // executed = budget - remaining
        EnterFrameBounds(depth);

        if (!TMode.PerInstruction)
        {
            remaining -= d->Run;
            if (remaining < 0)
            {
                goto Overflow;
            }
        }

        while (true)
        {
            if (TMode.PerInstruction)
            {
                pc = (int)(d - code);
                if (TMode.Enabled)
                {
                    TraceEnd(baseDepth, in regs, pc, _frames[depth].Program!, depth);
                }

                if (d->Opcode == InstructionDecoder.FellOff)
                {
                    ThrowFellOffEnd(_frames[depth].Program!.Slots);
                }

                if (--remaining < 0)
                {
                    ThrowBudgetExceeded(pc, budget);
                }

                if (TMode.Enabled)
                {
                    TraceBegin(baseDepth, _frames[depth].Program!, pc, _frames[depth].Program!.Slots[pc], depth, budget - remaining, in regs);
                }
            }

            switch (d->Opcode)
            {
                // ---- ALU64 ----
                case Op.Add64Imm: R(ref r, d->Dst) += (ulong)(long)d->Imm; break;
                case Op.Add64Reg: R(ref r, d->Dst) += R(ref r, d->Src); break;
                case Op.Sub64Imm: R(ref r, d->Dst) -= (ulong)(long)d->Imm; break;
                case Op.Sub64Reg: R(ref r, d->Dst) -= R(ref r, d->Src); break;
                case Op.Mul64Imm: R(ref r, d->Dst) *= (ulong)(long)d->Imm; break;
                case Op.Mul64Reg: R(ref r, d->Dst) *= R(ref r, d->Src); break;
                case Op.Div64Imm: R(ref r, d->Dst) = Div64(R(ref r, d->Dst), (ulong)(long)d->Imm, d->Offset); break;
                case Op.Div64Reg: R(ref r, d->Dst) = Div64(R(ref r, d->Dst), R(ref r, d->Src), d->Offset); break;
                case Op.Mod64Imm: R(ref r, d->Dst) = Mod64(R(ref r, d->Dst), (ulong)(long)d->Imm, d->Offset); break;
                case Op.Mod64Reg: R(ref r, d->Dst) = Mod64(R(ref r, d->Dst), R(ref r, d->Src), d->Offset); break;
                case Op.Or64Imm: R(ref r, d->Dst) |= (ulong)(long)d->Imm; break;
                case Op.Or64Reg: R(ref r, d->Dst) |= R(ref r, d->Src); break;
                case Op.And64Imm: R(ref r, d->Dst) &= (ulong)(long)d->Imm; break;
                case Op.And64Reg: R(ref r, d->Dst) &= R(ref r, d->Src); break;
                case Op.Xor64Imm: R(ref r, d->Dst) ^= (ulong)(long)d->Imm; break;
                case Op.Xor64Reg: R(ref r, d->Dst) ^= R(ref r, d->Src); break;
                case Op.Lsh64Imm: R(ref r, d->Dst) <<= d->Imm & 63; break;
                case Op.Lsh64Reg: R(ref r, d->Dst) <<= (int)(R(ref r, d->Src) & 63); break;
                case Op.Rsh64Imm: R(ref r, d->Dst) >>= d->Imm & 63; break;
                case Op.Rsh64Reg: R(ref r, d->Dst) >>= (int)(R(ref r, d->Src) & 63); break;
                case Op.Arsh64Imm: R(ref r, d->Dst) = (ulong)((long)R(ref r, d->Dst) >> (d->Imm & 63)); break;
                case Op.Arsh64Reg: R(ref r, d->Dst) = (ulong)((long)R(ref r, d->Dst) >> (int)(R(ref r, d->Src) & 63)); break;
                case Op.Neg64: R(ref r, d->Dst) = 0 - R(ref r, d->Dst); break;
                case Op.Mov64Imm: R(ref r, d->Dst) = (ulong)(long)d->Imm; break;
                case Op.Mov64Reg: R(ref r, d->Dst) = R(ref r, d->Src); break;
                case InstructionDecoder.MovSx64: R(ref r, d->Dst) = MovSx64(R(ref r, d->Src), d->Offset); break;

                // ---- pairs (the fused stream only: InstructionDecoder.Fuse) ----
                case InstructionDecoder.MovAddImm: R(ref r, d->Dst) = R(ref r, d->Src) + (ulong)(long)d->Imm; d += 2; continue;
                case InstructionDecoder.MovAddReg: R(ref r, d->Dst) = R(ref r, d->Src) + R(ref r, d->Imm); d += 2; continue;
                case InstructionDecoder.AddJneImm:
                    R(ref r, d->Dst) += (ulong)(long)d->Imm;
                    d++;
                    d += R(ref r, d->Dst) != (ulong)(long)d->Imm ? d->Offset : 1;
                    goto Arrived;
                case InstructionDecoder.Mov32JgtReg:
                    R(ref r, d->Dst) = (uint)d->Imm;
                    d++;
                    d += R(ref r, d->Dst) > R(ref r, d->Src) ? d->Offset : 1;
                    goto Arrived;
                case InstructionDecoder.LdxHBe16:
                {
                    ulong a = R(ref r, d->Src) + (ulong)(long)d->Offset;
                    ulong v = Fast(a, 2) ? Unsafe.ReadUnaligned<ushort>((void*)a) : LoadSlow((int)(d - code), &d->RegionHint, a, 2);
                    R(ref r, d->Dst) = BinaryPrimitives.ReverseEndianness((ushort)v);
                    d += 2;
                    continue;
                }
                case Op.Bswap: R(ref r, d->Dst) = Swap(R(ref r, d->Dst), d->Imm); break;

                // ---- ALU (32-bit: operands truncated, result zero-extended) ----
                case Op.Add32Imm: R(ref r, d->Dst) = (uint)R(ref r, d->Dst) + (uint)d->Imm; break;
                case Op.Add32Reg: R(ref r, d->Dst) = (uint)R(ref r, d->Dst) + (uint)R(ref r, d->Src); break;
                case Op.Sub32Imm: R(ref r, d->Dst) = (uint)R(ref r, d->Dst) - (uint)d->Imm; break;
                case Op.Sub32Reg: R(ref r, d->Dst) = (uint)R(ref r, d->Dst) - (uint)R(ref r, d->Src); break;
                case Op.Mul32Imm: R(ref r, d->Dst) = (uint)R(ref r, d->Dst) * (uint)d->Imm; break;
                case Op.Mul32Reg: R(ref r, d->Dst) = (uint)R(ref r, d->Dst) * (uint)R(ref r, d->Src); break;
                case Op.Div32Imm: R(ref r, d->Dst) = Div32((uint)R(ref r, d->Dst), (uint)d->Imm, d->Offset); break;
                case Op.Div32Reg: R(ref r, d->Dst) = Div32((uint)R(ref r, d->Dst), (uint)R(ref r, d->Src), d->Offset); break;
                case Op.Mod32Imm: R(ref r, d->Dst) = Mod32((uint)R(ref r, d->Dst), (uint)d->Imm, d->Offset); break;
                case Op.Mod32Reg: R(ref r, d->Dst) = Mod32((uint)R(ref r, d->Dst), (uint)R(ref r, d->Src), d->Offset); break;
                case Op.Or32Imm: R(ref r, d->Dst) = (uint)R(ref r, d->Dst) | (uint)d->Imm; break;
                case Op.Or32Reg: R(ref r, d->Dst) = (uint)R(ref r, d->Dst) | (uint)R(ref r, d->Src); break;
                case Op.And32Imm: R(ref r, d->Dst) = (uint)R(ref r, d->Dst) & (uint)d->Imm; break;
                case Op.And32Reg: R(ref r, d->Dst) = (uint)R(ref r, d->Dst) & (uint)R(ref r, d->Src); break;
                case Op.Xor32Imm: R(ref r, d->Dst) = (uint)R(ref r, d->Dst) ^ (uint)d->Imm; break;
                case Op.Xor32Reg: R(ref r, d->Dst) = (uint)R(ref r, d->Dst) ^ (uint)R(ref r, d->Src); break;
                case Op.Lsh32Imm: R(ref r, d->Dst) = (uint)R(ref r, d->Dst) << (d->Imm & 31); break;
                case Op.Lsh32Reg: R(ref r, d->Dst) = (uint)R(ref r, d->Dst) << (int)(R(ref r, d->Src) & 31); break;
                case Op.Rsh32Imm: R(ref r, d->Dst) = (uint)R(ref r, d->Dst) >> (d->Imm & 31); break;
                case Op.Rsh32Reg: R(ref r, d->Dst) = (uint)R(ref r, d->Dst) >> (int)(R(ref r, d->Src) & 31); break;
                case Op.Arsh32Imm: R(ref r, d->Dst) = (uint)((int)R(ref r, d->Dst) >> (d->Imm & 31)); break;
                case Op.Arsh32Reg: R(ref r, d->Dst) = (uint)((int)R(ref r, d->Dst) >> (int)(R(ref r, d->Src) & 31)); break;
                case Op.Neg32: R(ref r, d->Dst) = 0u - (uint)R(ref r, d->Dst); break;
                case Op.Mov32Imm: R(ref r, d->Dst) = (uint)d->Imm; break;
                case Op.Mov32Reg: R(ref r, d->Dst) = (uint)R(ref r, d->Src); break;
                case InstructionDecoder.MovSx32: R(ref r, d->Dst) = MovSx32(R(ref r, d->Src), d->Offset); break;
                case Op.Le: R(ref r, d->Dst) = ToLittleEndian(R(ref r, d->Dst), d->Imm); break;
                case Op.Be: R(ref r, d->Dst) = Swap(R(ref r, d->Dst), d->Imm); break;

                // ---- JMP (64-bit compares; imm sign-extended); the target is absolute ----
                case Op.Ja: d += d->Offset; goto Arrived;
                case Op.JeqImm: d += R(ref r, d->Dst) == (ulong)(long)d->Imm ? d->Offset : 1; goto Arrived;
                case Op.JeqReg: d += R(ref r, d->Dst) == R(ref r, d->Src) ? d->Offset : 1; goto Arrived;
                case Op.JneImm: d += R(ref r, d->Dst) != (ulong)(long)d->Imm ? d->Offset : 1; goto Arrived;
                case Op.JneReg: d += R(ref r, d->Dst) != R(ref r, d->Src) ? d->Offset : 1; goto Arrived;
                case Op.JgtImm: d += R(ref r, d->Dst) > (ulong)(long)d->Imm ? d->Offset : 1; goto Arrived;
                case Op.JgtReg: d += R(ref r, d->Dst) > R(ref r, d->Src) ? d->Offset : 1; goto Arrived;
                case Op.JgeImm: d += R(ref r, d->Dst) >= (ulong)(long)d->Imm ? d->Offset : 1; goto Arrived;
                case Op.JgeReg: d += R(ref r, d->Dst) >= R(ref r, d->Src) ? d->Offset : 1; goto Arrived;
                case Op.JltImm: d += R(ref r, d->Dst) < (ulong)(long)d->Imm ? d->Offset : 1; goto Arrived;
                case Op.JltReg: d += R(ref r, d->Dst) < R(ref r, d->Src) ? d->Offset : 1; goto Arrived;
                case Op.JleImm: d += R(ref r, d->Dst) <= (ulong)(long)d->Imm ? d->Offset : 1; goto Arrived;
                case Op.JleReg: d += R(ref r, d->Dst) <= R(ref r, d->Src) ? d->Offset : 1; goto Arrived;
                case Op.JsetImm: d += (R(ref r, d->Dst) & (ulong)(long)d->Imm) != 0 ? d->Offset : 1; goto Arrived;
                case Op.JsetReg: d += (R(ref r, d->Dst) & R(ref r, d->Src)) != 0 ? d->Offset : 1; goto Arrived;
                case Op.JsgtImm: d += (long)R(ref r, d->Dst) > (long)(ulong)(long)d->Imm ? d->Offset : 1; goto Arrived;
                case Op.JsgtReg: d += (long)R(ref r, d->Dst) > (long)R(ref r, d->Src) ? d->Offset : 1; goto Arrived;
                case Op.JsgeImm: d += (long)R(ref r, d->Dst) >= (long)(ulong)(long)d->Imm ? d->Offset : 1; goto Arrived;
                case Op.JsgeReg: d += (long)R(ref r, d->Dst) >= (long)R(ref r, d->Src) ? d->Offset : 1; goto Arrived;
                case Op.JsltImm: d += (long)R(ref r, d->Dst) < (long)(ulong)(long)d->Imm ? d->Offset : 1; goto Arrived;
                case Op.JsltReg: d += (long)R(ref r, d->Dst) < (long)R(ref r, d->Src) ? d->Offset : 1; goto Arrived;
                case Op.JsleImm: d += (long)R(ref r, d->Dst) <= (long)(ulong)(long)d->Imm ? d->Offset : 1; goto Arrived;
                case Op.JsleReg: d += (long)R(ref r, d->Dst) <= (long)R(ref r, d->Src) ? d->Offset : 1; goto Arrived;

                // ---- JMP32 (compares on the low 32 bits) ----
                case Op.Ja32: d += d->Offset; goto Arrived;   // gotol: 32-bit offset in imm
                case Op.Jeq32Imm: d += (uint)R(ref r, d->Dst) == (uint)d->Imm ? d->Offset : 1; goto Arrived;
                case Op.Jeq32Reg: d += (uint)R(ref r, d->Dst) == (uint)R(ref r, d->Src) ? d->Offset : 1; goto Arrived;
                case Op.Jne32Imm: d += (uint)R(ref r, d->Dst) != (uint)d->Imm ? d->Offset : 1; goto Arrived;
                case Op.Jne32Reg: d += (uint)R(ref r, d->Dst) != (uint)R(ref r, d->Src) ? d->Offset : 1; goto Arrived;
                case Op.Jgt32Imm: d += (uint)R(ref r, d->Dst) > (uint)d->Imm ? d->Offset : 1; goto Arrived;
                case Op.Jgt32Reg: d += (uint)R(ref r, d->Dst) > (uint)R(ref r, d->Src) ? d->Offset : 1; goto Arrived;
                case Op.Jge32Imm: d += (uint)R(ref r, d->Dst) >= (uint)d->Imm ? d->Offset : 1; goto Arrived;
                case Op.Jge32Reg: d += (uint)R(ref r, d->Dst) >= (uint)R(ref r, d->Src) ? d->Offset : 1; goto Arrived;
                case Op.Jlt32Imm: d += (uint)R(ref r, d->Dst) < (uint)d->Imm ? d->Offset : 1; goto Arrived;
                case Op.Jlt32Reg: d += (uint)R(ref r, d->Dst) < (uint)R(ref r, d->Src) ? d->Offset : 1; goto Arrived;
                case Op.Jle32Imm: d += (uint)R(ref r, d->Dst) <= (uint)d->Imm ? d->Offset : 1; goto Arrived;
                case Op.Jle32Reg: d += (uint)R(ref r, d->Dst) <= (uint)R(ref r, d->Src) ? d->Offset : 1; goto Arrived;
                case Op.Jset32Imm: d += ((uint)R(ref r, d->Dst) & (uint)d->Imm) != 0 ? d->Offset : 1; goto Arrived;
                case Op.Jset32Reg: d += ((uint)R(ref r, d->Dst) & (uint)R(ref r, d->Src)) != 0 ? d->Offset : 1; goto Arrived;
                case Op.Jsgt32Imm: d += (int)R(ref r, d->Dst) > d->Imm ? d->Offset : 1; goto Arrived;
                case Op.Jsgt32Reg: d += (int)R(ref r, d->Dst) > (int)R(ref r, d->Src) ? d->Offset : 1; goto Arrived;
                case Op.Jsge32Imm: d += (int)R(ref r, d->Dst) >= d->Imm ? d->Offset : 1; goto Arrived;
                case Op.Jsge32Reg: d += (int)R(ref r, d->Dst) >= (int)R(ref r, d->Src) ? d->Offset : 1; goto Arrived;
                case Op.Jslt32Imm: d += (int)R(ref r, d->Dst) < d->Imm ? d->Offset : 1; goto Arrived;
                case Op.Jslt32Reg: d += (int)R(ref r, d->Dst) < (int)R(ref r, d->Src) ? d->Offset : 1; goto Arrived;
                case Op.Jsle32Imm: d += (int)R(ref r, d->Dst) <= d->Imm ? d->Offset : 1; goto Arrived;
                case Op.Jsle32Reg: d += (int)R(ref r, d->Dst) <= (int)R(ref r, d->Src) ? d->Offset : 1; goto Arrived;

                // ---- calls and exit ----
                case Op.Call:
                    if (d->Src == (int)CallKind.Local)
                    {
                        // BPF-to-BPF call: r1-r5 pass as they are, r6-r9 and r10 are restored on return,
                        // and the callee gets a fresh stack frame.
                        if (depth + 1 >= MaxCallFrames)
                        {
                            ThrowCallStackExceeded((int)(d - code));
                        }

                        EnsureRegions();
                        var regions = Env.Regions;
                        ref CallFrame saved = ref _frames[depth];
                        saved.ReturnPc = (int)(d - code) + 1;
                        saved.RegionCount = regions.Count;
                        saved.R6 = regs[6];
                        saved.R7 = regs[7];
                        saved.R8 = regs[8];
                        saved.R9 = regs[9];
                        saved.R10 = regs[10];
                        depth++;
                        SetProgram(depth, saved.Program!);
                        regs[10] = EnterFrame(regions, depth);
                        EnterFrameBounds(depth);
                        d += d->Offset;
                        goto Arrived;
                    }

                    // A default helper with a fast form (BpfInterpreter.FastHelpers.cs): no callback, no packet move,
                    // no tail call, no frame change, so nothing to sync around it (a spin lock marks its own write).
                    if (d->Src == (int)CallKind.Helper)
                    {
                        var fast = FastHelperFor(d->Imm);
                        if (fast != FastHelper.None)
                        {
                            regs[0] = CallFastHelper(fast, (int)(d - code), ref regs);
                            d++;
                            goto Arrived;
                        }
                    }

                    // A helper (src 0) or a kfunc (src 2). Helpers may call back into the program (bpf_loop), which
                    // runs on this thread with the counters kept in fields, so sync them around the call.
                    pc = (int)(d - code);
                    _executed = budget - remaining;
                    _depth = depth;
                    SetCurrent(_frames[depth].Program!);
                    regs[0] = d->Src == (int)CallKind.Helper
                        ? CallHelper(pc, d->Imm, ref regs)
                        : CallKfunc(pc, d->Imm, ref regs);
                    remaining = budget - _executed;
                    RefreshPacketBounds();
                    EnterFrameBounds(depth);
                    if (Env.PendingTailCall is not null)
                    {
                        // bpf_tail_call succeeded: continue at the target's first slot in this frame, with r1 (the
                        // context) as it was; the stack frame stays. kernel: ___bpf_prog_run() JMP_TAIL_CALL.
                        if (TMode.Enabled)
                        {
                            TraceTailCall(baseDepth);
                        }

                        var target = TakeTailCall(Env, pc);
                        SetProgram(depth, target);
                        code = CodeOf<TMode>(target);
                        d = code;
                        goto Arrived;
                    }

                    d++;
                    goto Arrived;
                case Op.CallX:
                    // callx: the helper id is in register dst.
                    pc = (int)(d - code);
                    _executed = budget - remaining;
                    _depth = depth;
                    SetCurrent(_frames[depth].Program!);
                    regs[0] = CallHelper(pc, (long)R(ref r, d->Dst), ref regs);
                    remaining = budget - _executed;
                    RefreshPacketBounds();
                    EnterFrameBounds(depth);
                    if (Env.PendingTailCall is not null)
                    {
                        if (TMode.Enabled)
                        {
                            TraceTailCall(baseDepth);
                        }

                        var target = TakeTailCall(Env, pc);
                        SetProgram(depth, target);
                        code = CodeOf<TMode>(target);
                        d = code;
                        goto Arrived;
                    }

                    d++;
                    goto Arrived;
                case Op.Exit:
                    if (depth == baseDepth)
                    {
                        _executed = budget - remaining;
                        if (TMode.Enabled)
                        {
                            TraceEnd(baseDepth, in regs, -1, _frames[depth].Program!, depth);
                        }

                        return regs[0];
                    }

                    depth--;
                    ref CallFrame caller = ref _frames[depth];
                    regs[6] = caller.R6;
                    regs[7] = caller.R7;
                    regs[8] = caller.R8;
                    regs[9] = caller.R9;
                    regs[10] = caller.R10;
                    EnterFrameBounds(depth);
                    Env.Regions.Truncate(caller.RegionCount);
                    code = CodeOf<TMode>(caller.Program!);
                    d = code + caller.ReturnPc;
                    goto Arrived;

                // ---- LD: 64-bit immediate and the legacy packet loads ----
                case Op.LdDw:
                    if (d->Src == (int)PseudoSrc.Imm64)
                    {
                        R(ref r, d->Dst) = (uint)d->Imm | ((ulong)(uint)d[1].Imm << 32);
                    }
                    else if (d->Src == (int)PseudoSrc.Func)
                    {
                        // BPF_PSEUDO_FUNC: the address of the function at pc + 1 + imm (for bpf_loop and friends).
                        R(ref r, d->Dst) = _frames[depth].Program!.FunctionAddress((int)(d - code) + 1 + d->Imm);
                    }
                    else
                    {
                        ThrowPseudoLoad((int)(d - code), d->Src);
                    }

                    d += 2;
                    continue;
                case Op.LdAbsW:
                case Op.LdAbsH:
                case Op.LdAbsB:
                case Op.LdIndW:
                case Op.LdIndH:
                case Op.LdIndB:
                    if (!LoadPacketLegacy(_frames[depth].Program!.Slots[(int)(d - code)], ref regs, _ldPacket, _ldPacketLength))
                    {
                        // Out of bounds: the kernel ends the program (all its frames) with r0 = 0.
                        _executed = budget - remaining;
                        if (TMode.Enabled)
                        {
                            TraceEnd(baseDepth, in regs, -1, _frames[depth].Program!, depth);
                        }

                        return 0;
                    }

                    d++;
                    goto Arrived;

                // ---- LDX: the current stack frame and the packet inline, the rest through the region table ----
                case Op.LdxW:
                {
                    ulong a = R(ref r, d->Src) + (ulong)(long)d->Offset;
                    if (Fast(a, 4))
                    {
                        R(ref r, d->Dst) = Unsafe.ReadUnaligned<uint>((void*)a);
                    }
                    else
                    {
                        R(ref r, d->Dst) = a - _ctxStart < _ctxSpan ? LoadContextWord((int)(d - code), a) : LoadSlow((int)(d - code), &d->RegionHint, a, 4);
                    }

                    break;
                }

                case Op.LdxH:
                {
                    ulong a = R(ref r, d->Src) + (ulong)(long)d->Offset;
                    R(ref r, d->Dst) = Fast(a, 2) ? Unsafe.ReadUnaligned<ushort>((void*)a) : LoadSlow((int)(d - code), &d->RegionHint, a, 2);
                    break;
                }

                case Op.LdxB:
                {
                    ulong a = R(ref r, d->Src) + (ulong)(long)d->Offset;
                    R(ref r, d->Dst) = Fast(a, 1) ? *(byte*)a : LoadSlow((int)(d - code), &d->RegionHint, a, 1);
                    break;
                }

                case Op.LdxDw:
                {
                    ulong a = R(ref r, d->Src) + (ulong)(long)d->Offset;
                    R(ref r, d->Dst) = Fast(a, 8) ? Unsafe.ReadUnaligned<ulong>((void*)a) : LoadSlow((int)(d - code), &d->RegionHint, a, 8);
                    break;
                }

                case Op.LdxSW:
                {
                    ulong a = R(ref r, d->Src) + (ulong)(long)d->Offset;
                    R(ref r, d->Dst) = Fast(a, 4) ? (ulong)(long)Unsafe.ReadUnaligned<int>((void*)a) : LoadSlowSigned((int)(d - code), &d->RegionHint, a, 4);
                    break;
                }

                case Op.LdxSH:
                {
                    ulong a = R(ref r, d->Src) + (ulong)(long)d->Offset;
                    R(ref r, d->Dst) = Fast(a, 2) ? (ulong)(long)Unsafe.ReadUnaligned<short>((void*)a) : LoadSlowSigned((int)(d - code), &d->RegionHint, a, 2);
                    break;
                }

                case Op.LdxSB:
                {
                    ulong a = R(ref r, d->Src) + (ulong)(long)d->Offset;
                    R(ref r, d->Dst) = Fast(a, 1) ? (ulong)(long)*(sbyte*)a : LoadSlowSigned((int)(d - code), &d->RegionHint, a, 1);
                    break;
                }

                // ---- ST (imm) and STX (register) ----
                case Op.StW:
                    Store(d, code, R(ref r, d->Dst) + (ulong)(long)d->Offset, (uint)d->Imm);
                    break;

                case Op.StH:
                    Store(d, code, R(ref r, d->Dst) + (ulong)(long)d->Offset, (ushort)d->Imm);
                    break;

                case Op.StB:
                    Store(d, code, R(ref r, d->Dst) + (ulong)(long)d->Offset, (byte)d->Imm);
                    break;

                case Op.StDw:
                    Store(d, code, R(ref r, d->Dst) + (ulong)(long)d->Offset, (ulong)(long)d->Imm);
                    break;

                case Op.StxW:
                    Store(d, code, R(ref r, d->Dst) + (ulong)(long)d->Offset, (uint)R(ref r, d->Src));
                    break;

                case Op.StxH:
                    Store(d, code, R(ref r, d->Dst) + (ulong)(long)d->Offset, (ushort)R(ref r, d->Src));
                    break;

                case Op.StxB:
                    Store(d, code, R(ref r, d->Dst) + (ulong)(long)d->Offset, (byte)R(ref r, d->Src));
                    break;

                case Op.StxDw:
                    Store(d, code, R(ref r, d->Dst) + (ulong)(long)d->Offset, R(ref r, d->Src));
                    break;

                case Op.AtomicW: EnsureRegions(); Atomic32(Env.Regions, (int)(d - code), _frames[depth].Program!.Slots[(int)(d - code)], ref regs); break;
                case Op.AtomicDw: EnsureRegions(); Atomic64(Env.Regions, (int)(d - code), _frames[depth].Program!.Slots[(int)(d - code)], ref regs); break;

                case InstructionDecoder.FellOff:
                    ThrowFellOffEnd(_frames[depth].Program!.Slots);
                    break;
                case InstructionDecoder.Malformed:
                    ThrowMalformed(_frames[depth].Program!.Slots, (int)(d - code));
                    break;
                case 0x00:
                case 0x01:
                case 0x02:
                case 0x03:
                default:
                    ThrowInvalidOpcode((int)(d - code), _frames[depth].Program!.Slots[(int)(d - code)].Opcode);
                    break;
            }

            // Straight on: the run charged where control arrived covers this slot.
            d++;
            continue;

        Arrived:
            // Control arrived at `d` by a jump, call, return or after a helper: charge its straight run.
            if (!TMode.PerInstruction)
            {
                remaining -= d->Run;
                if (remaining < 0)
                {
                    goto Overflow;
                }
            }
        }

    Overflow:
        // The straight run from `d` would cross the budget: count the rest one by one, so that the budget fault (or a
        // fault before it) comes at the instruction where counting one by one puts it.
        return Execute<Precise>(_frames[depth].Program!, (int)(d - code), in regs, baseDepth, depth, budget - remaining - d->Run);
    }

    // The stream a loop runs: the fused one (InstructionDecoder.Fuse) when it counts per straight run and does not
    // trace, else the plain one, instruction by instruction. Both have the same entries at the same indices but for
    // the first slot of a fused pair, so a loop handing over to another (Overflow) continues at the same index.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static DecodedInstruction* CodeOf<TMode>(ExecutableProgram prog)
        where TMode : struct, ITraceMode =>
        TMode.PerInstruction ? prog.Code : prog.FusedCode;

    // Register i (0-10: the decoder guarantees it) of the file that starts at r.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref ulong R(ref ulong r, int i) => ref Unsafe.Add(ref r, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRegisters(ref RegisterFile to, in RegisterFile from)
    {
        to[0] = from[0];
        to[1] = from[1];
        to[2] = from[2];
        to[3] = from[3];
        to[4] = from[4];
        to[5] = from[5];
        to[6] = from[6];
        to[7] = from[7];
        to[8] = from[8];
        to[9] = from[9];
        to[10] = from[10];
    }

    // _frames[depth].Program = prog, without the GC write barrier when it is already (the common case).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SetProgram(int depth, ExecutableProgram prog)
    {
        ref CallFrame frame = ref _frames[depth];
        if (!ReferenceEquals(frame.Program, prog))
        {
            frame.Program = prog;
        }
    }

    // _current = prog, without the GC write barrier when it is already (the common case: no tail call).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SetCurrent(ExecutableProgram prog)
    {
        if (!ReferenceEquals(_current, prog))
        {
            _current = prog;
        }
    }

    // True when all `size` bytes at `a` lie in the current stack frame [stackLo, stackLo + 512), in the packet
    // [pktStart, pktStart + pktLen) (both writable regions of this run) or in the value window (a region registered
    // before the run, see _valLoA): the access needs no other check.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Fast(ulong a, int size) =>
        a - _stackLo <= (ulong)(StackSize - size) || InPacket(a, size) || InValue(a, size);

    // A store of sizeof(T) bytes at `a` by instruction `d`: into the current frame (lowering its floor, the lowest
    // byte written since the frame was last cleared), the packet or a writable value window after a few compares, anywhere else through
    // the region table (StoreSlow). Inlined and specialised per T, so each store case compiles to its own code.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Store<T>(DecodedInstruction* d, DecodedInstruction* code, ulong a, T v)
        where T : unmanaged
    {
        if (a - _stackLo <= (ulong)(StackSize - sizeof(T)))
        {
            if (a < *_floor)
            {
                *_floor = a;
            }

            Unsafe.WriteUnaligned((void*)a, v);
        }
        else if (InPacket(a, sizeof(T)) || InValueWritable(a, sizeof(T)))
        {
            Unsafe.WriteUnaligned((void*)a, v);
        }
        else
        {
            StoreSlow((int)(d - code), &d->RegionHint, a, v);
        }
    }

    // True when all `size` bytes at `a` lie in the packet [_pktStart, _pktStart + _pktLen).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool InPacket(ulong a, int size)
    {
        ulong o = a - _pktStart;
        return o < _pktLen && _pktLen - o >= (ulong)size;
    }

    // The current frame's bounds for the fast path: frame `depth` is the one running.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EnterFrameBounds(int depth)
    {
        _stackLo = FrameStart(depth);
        _floor = _floors + depth;
    }

    // The packet's bounds for the fast path (helpers may have moved them).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void RefreshPacketBounds()
    {
        if (Env.Regions.TryGetWritable(_packetRegion, _packetKind, out ulong start, out ulong end))
        {
            _pktStart = start;
            _pktLen = end - start;
        }
        else
        {
            _pktStart = 0;
            _pktLen = 0;
        }
    }

    private static ulong Div64(ulong dst, ulong src, int offset) =>
        offset == 0 ? BpfMath.UDiv64(dst, src) : BpfMath.SDiv64(dst, src);

    private static ulong Mod64(ulong dst, ulong src, int offset) =>
        offset == 0 ? BpfMath.UMod64(dst, src) : BpfMath.SMod64(dst, src);

    private static uint Div32(uint dst, uint src, int offset) =>
        offset == 0 ? BpfMath.UDiv32(dst, src) : BpfMath.SDiv32(dst, src);

    // x % 0 leaves the low 32 bits of dst; the caller zero-extends the result like any ALU result.
    private static uint Mod32(uint dst, uint src, int offset) =>
        offset == 0 ? BpfMath.UMod32(dst, src) : BpfMath.SMod32(dst, src);

    // mov (offset 0) or movsx (offset 8/16/32: sign-extend the low bits of src).
    private static ulong MovSx64(ulong src, int offset) => offset switch
    {
        8 => (ulong)(long)(sbyte)src,
        16 => (ulong)(long)(short)src,
        32 => (ulong)(long)(int)src,
        _ => src,
    };

    // mov32 (offset 0) or movsx32 (offset 8/16); the result is zero-extended to 64 bits.
    private static uint MovSx32(ulong src, int offset) => offset switch
    {
        8 => (uint)(sbyte)src,
        16 => (uint)(short)src,
        _ => (uint)src,
    };

    // be16/32/64 (to big-endian on a little-endian host) and bswap16/32/64: swap the low `width` bits, zero the rest.
    private static ulong Swap(ulong value, int width) => width switch
    {
        16 => BinaryPrimitives.ReverseEndianness((ushort)value),
        32 => BinaryPrimitives.ReverseEndianness((uint)value),
        _ => BinaryPrimitives.ReverseEndianness(value),
    };

    // le16/32/64 on a little-endian host: no swap, only truncation to the width (zero-extended).
    private static ulong ToLittleEndian(ulong value, int width) => width switch
    {
        16 => (ushort)value,
        32 => (uint)value,
        _ => value,
    };
}
