using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Isa;

namespace VethXdp.Vm.Interpreter;

public sealed unsafe partial class BpfInterpreter
{
    // The main loop: one switch over the opcode byte. Semantics follow RFC 9669 (and Linux where it is silent):
    // ALU results are zero-extended to 64 bits, shift counts are masked to the operand width, and
    // division and modulo never trap (BpfMath). pc is a slot index; a 64-bit immediate load takes two.
    // Runs `prog` from `pc` in frame `baseDepth` (already registered, R10 set) until that frame exits; BPF-to-BPF
    // calls go deeper and return here, tail calls replace the program of the current frame, and callbacks that
    // helpers make re-enter this method one frame up. TMode is TraceOff (no tracing code is compiled in) or TraceOn
    // (every instruction is reported to the tracer: begun at the top of its iteration, ended at the top of the next).
    private ulong Execute<TMode>(ExecutableProgram prog, int pc, in RegisterFile initial, int baseDepth)
        where TMode : struct, ITraceMode
    {
        // A local copy: the JIT keeps it in the frame, without an indirection per register access.
        RegisterFile regs = initial;
        ReadOnlySpan<Instruction> slots = prog.Slots;
        var regions = Env.Regions;
        var frames = _frames;
        long budget = _budget;
        int contextRegion = _contextRegion;
        long executed = _executed;
        int depth = baseDepth;

        while (true)
        {
            if (TMode.Enabled)
            {
                TraceEnd(baseDepth, in regs, pc, prog, depth);
            }

            if ((uint)pc >= (uint)slots.Length)
            {
                ThrowFellOffEnd(slots);
            }

            if (++executed > budget)
            {
                ThrowBudgetExceeded(pc, budget);
            }

            Instruction insn = slots[pc];
            if (TMode.Enabled)
            {
                TraceBegin(baseDepth, prog, pc, insn, depth, executed, in regs);
            }

            int dst = insn.DstReg;
            int src = insn.SrcReg;
            ulong imm = (ulong)(long)insn.Imm;   // ALU64 and JMP sign-extend imm to 64 bits
            uint imm32 = (uint)insn.Imm;          // ALU and JMP32 use its 32 bits
            ulong off = (ulong)(long)insn.Offset;

            switch (insn.Opcode)
            {
                // ---- ALU64 ----
                case Op.Add64Imm: regs[dst] += imm; break;
                case Op.Add64Reg: regs[dst] += regs[src]; break;
                case Op.Sub64Imm: regs[dst] -= imm; break;
                case Op.Sub64Reg: regs[dst] -= regs[src]; break;
                case Op.Mul64Imm: regs[dst] *= imm; break;
                case Op.Mul64Reg: regs[dst] *= regs[src]; break;
                case Op.Div64Imm: regs[dst] = Div64(regs[dst], imm, insn.Offset); break;
                case Op.Div64Reg: regs[dst] = Div64(regs[dst], regs[src], insn.Offset); break;
                case Op.Mod64Imm: regs[dst] = Mod64(regs[dst], imm, insn.Offset); break;
                case Op.Mod64Reg: regs[dst] = Mod64(regs[dst], regs[src], insn.Offset); break;
                case Op.Or64Imm: regs[dst] |= imm; break;
                case Op.Or64Reg: regs[dst] |= regs[src]; break;
                case Op.And64Imm: regs[dst] &= imm; break;
                case Op.And64Reg: regs[dst] &= regs[src]; break;
                case Op.Xor64Imm: regs[dst] ^= imm; break;
                case Op.Xor64Reg: regs[dst] ^= regs[src]; break;
                case Op.Lsh64Imm: regs[dst] <<= (int)(imm & 63); break;
                case Op.Lsh64Reg: regs[dst] <<= (int)(regs[src] & 63); break;
                case Op.Rsh64Imm: regs[dst] >>= (int)(imm & 63); break;
                case Op.Rsh64Reg: regs[dst] >>= (int)(regs[src] & 63); break;
                case Op.Arsh64Imm: regs[dst] = (ulong)((long)regs[dst] >> (int)(imm & 63)); break;
                case Op.Arsh64Reg: regs[dst] = (ulong)((long)regs[dst] >> (int)(regs[src] & 63)); break;
                case Op.Neg64: regs[dst] = 0 - regs[dst]; break;
                case Op.Mov64Imm: regs[dst] = imm; break;
                case Op.Mov64Reg: regs[dst] = MovSx64(regs[src], insn.Offset); break;
                case Op.Bswap: regs[dst] = Swap(regs[dst], insn.Imm); break;

                // ---- ALU (32-bit: operands truncated, result zero-extended) ----
                case Op.Add32Imm: regs[dst] = (uint)regs[dst] + imm32; break;
                case Op.Add32Reg: regs[dst] = (uint)regs[dst] + (uint)regs[src]; break;
                case Op.Sub32Imm: regs[dst] = (uint)regs[dst] - imm32; break;
                case Op.Sub32Reg: regs[dst] = (uint)regs[dst] - (uint)regs[src]; break;
                case Op.Mul32Imm: regs[dst] = (uint)regs[dst] * imm32; break;
                case Op.Mul32Reg: regs[dst] = (uint)regs[dst] * (uint)regs[src]; break;
                case Op.Div32Imm: regs[dst] = Div32((uint)regs[dst], imm32, insn.Offset); break;
                case Op.Div32Reg: regs[dst] = Div32((uint)regs[dst], (uint)regs[src], insn.Offset); break;
                case Op.Mod32Imm: regs[dst] = Mod32((uint)regs[dst], imm32, insn.Offset); break;
                case Op.Mod32Reg: regs[dst] = Mod32((uint)regs[dst], (uint)regs[src], insn.Offset); break;
                case Op.Or32Imm: regs[dst] = (uint)regs[dst] | imm32; break;
                case Op.Or32Reg: regs[dst] = (uint)regs[dst] | (uint)regs[src]; break;
                case Op.And32Imm: regs[dst] = (uint)regs[dst] & imm32; break;
                case Op.And32Reg: regs[dst] = (uint)regs[dst] & (uint)regs[src]; break;
                case Op.Xor32Imm: regs[dst] = (uint)regs[dst] ^ imm32; break;
                case Op.Xor32Reg: regs[dst] = (uint)regs[dst] ^ (uint)regs[src]; break;
                case Op.Lsh32Imm: regs[dst] = (uint)regs[dst] << (int)(imm32 & 31); break;
                case Op.Lsh32Reg: regs[dst] = (uint)regs[dst] << (int)(regs[src] & 31); break;
                case Op.Rsh32Imm: regs[dst] = (uint)regs[dst] >> (int)(imm32 & 31); break;
                case Op.Rsh32Reg: regs[dst] = (uint)regs[dst] >> (int)(regs[src] & 31); break;
                case Op.Arsh32Imm: regs[dst] = (uint)((int)regs[dst] >> (int)(imm32 & 31)); break;
                case Op.Arsh32Reg: regs[dst] = (uint)((int)regs[dst] >> (int)(regs[src] & 31)); break;
                case Op.Neg32: regs[dst] = 0u - (uint)regs[dst]; break;
                case Op.Mov32Imm: regs[dst] = imm32; break;
                case Op.Mov32Reg: regs[dst] = MovSx32(regs[src], insn.Offset); break;
                case Op.Le: regs[dst] = ToLittleEndian(regs[dst], insn.Imm); break;
                case Op.Be: regs[dst] = Swap(regs[dst], insn.Imm); break;

                // ---- JMP (64-bit compares; imm sign-extended) ----
                case Op.Ja: pc += insn.Offset; break;
                case Op.JeqImm: if (regs[dst] == imm) { pc += insn.Offset; } break;
                case Op.JeqReg: if (regs[dst] == regs[src]) { pc += insn.Offset; } break;
                case Op.JneImm: if (regs[dst] != imm) { pc += insn.Offset; } break;
                case Op.JneReg: if (regs[dst] != regs[src]) { pc += insn.Offset; } break;
                case Op.JgtImm: if (regs[dst] > imm) { pc += insn.Offset; } break;
                case Op.JgtReg: if (regs[dst] > regs[src]) { pc += insn.Offset; } break;
                case Op.JgeImm: if (regs[dst] >= imm) { pc += insn.Offset; } break;
                case Op.JgeReg: if (regs[dst] >= regs[src]) { pc += insn.Offset; } break;
                case Op.JltImm: if (regs[dst] < imm) { pc += insn.Offset; } break;
                case Op.JltReg: if (regs[dst] < regs[src]) { pc += insn.Offset; } break;
                case Op.JleImm: if (regs[dst] <= imm) { pc += insn.Offset; } break;
                case Op.JleReg: if (regs[dst] <= regs[src]) { pc += insn.Offset; } break;
                case Op.JsetImm: if ((regs[dst] & imm) != 0) { pc += insn.Offset; } break;
                case Op.JsetReg: if ((regs[dst] & regs[src]) != 0) { pc += insn.Offset; } break;
                case Op.JsgtImm: if ((long)regs[dst] > (long)imm) { pc += insn.Offset; } break;
                case Op.JsgtReg: if ((long)regs[dst] > (long)regs[src]) { pc += insn.Offset; } break;
                case Op.JsgeImm: if ((long)regs[dst] >= (long)imm) { pc += insn.Offset; } break;
                case Op.JsgeReg: if ((long)regs[dst] >= (long)regs[src]) { pc += insn.Offset; } break;
                case Op.JsltImm: if ((long)regs[dst] < (long)imm) { pc += insn.Offset; } break;
                case Op.JsltReg: if ((long)regs[dst] < (long)regs[src]) { pc += insn.Offset; } break;
                case Op.JsleImm: if ((long)regs[dst] <= (long)imm) { pc += insn.Offset; } break;
                case Op.JsleReg: if ((long)regs[dst] <= (long)regs[src]) { pc += insn.Offset; } break;

                // ---- JMP32 (compares on the low 32 bits) ----
                case Op.Ja32: pc += insn.Imm; break;   // gotol: 32-bit offset in imm
                case Op.Jeq32Imm: if ((uint)regs[dst] == imm32) { pc += insn.Offset; } break;
                case Op.Jeq32Reg: if ((uint)regs[dst] == (uint)regs[src]) { pc += insn.Offset; } break;
                case Op.Jne32Imm: if ((uint)regs[dst] != imm32) { pc += insn.Offset; } break;
                case Op.Jne32Reg: if ((uint)regs[dst] != (uint)regs[src]) { pc += insn.Offset; } break;
                case Op.Jgt32Imm: if ((uint)regs[dst] > imm32) { pc += insn.Offset; } break;
                case Op.Jgt32Reg: if ((uint)regs[dst] > (uint)regs[src]) { pc += insn.Offset; } break;
                case Op.Jge32Imm: if ((uint)regs[dst] >= imm32) { pc += insn.Offset; } break;
                case Op.Jge32Reg: if ((uint)regs[dst] >= (uint)regs[src]) { pc += insn.Offset; } break;
                case Op.Jlt32Imm: if ((uint)regs[dst] < imm32) { pc += insn.Offset; } break;
                case Op.Jlt32Reg: if ((uint)regs[dst] < (uint)regs[src]) { pc += insn.Offset; } break;
                case Op.Jle32Imm: if ((uint)regs[dst] <= imm32) { pc += insn.Offset; } break;
                case Op.Jle32Reg: if ((uint)regs[dst] <= (uint)regs[src]) { pc += insn.Offset; } break;
                case Op.Jset32Imm: if (((uint)regs[dst] & imm32) != 0) { pc += insn.Offset; } break;
                case Op.Jset32Reg: if (((uint)regs[dst] & (uint)regs[src]) != 0) { pc += insn.Offset; } break;
                case Op.Jsgt32Imm: if ((int)regs[dst] > insn.Imm) { pc += insn.Offset; } break;
                case Op.Jsgt32Reg: if ((int)regs[dst] > (int)regs[src]) { pc += insn.Offset; } break;
                case Op.Jsge32Imm: if ((int)regs[dst] >= insn.Imm) { pc += insn.Offset; } break;
                case Op.Jsge32Reg: if ((int)regs[dst] >= (int)regs[src]) { pc += insn.Offset; } break;
                case Op.Jslt32Imm: if ((int)regs[dst] < insn.Imm) { pc += insn.Offset; } break;
                case Op.Jslt32Reg: if ((int)regs[dst] < (int)regs[src]) { pc += insn.Offset; } break;
                case Op.Jsle32Imm: if ((int)regs[dst] <= insn.Imm) { pc += insn.Offset; } break;
                case Op.Jsle32Reg: if ((int)regs[dst] <= (int)regs[src]) { pc += insn.Offset; } break;

                // ---- calls and exit ----
                case Op.Call:
                    if (src == (int)CallKind.Local)
                    {
                        // BPF-to-BPF call: r1-r5 pass as they are, r6-r9 and r10 are restored on return,
                        // and the callee gets a fresh stack frame.
                        if (depth + 1 >= MaxCallFrames)
                        {
                            ThrowCallStackExceeded(pc);
                        }

                        ref CallFrame saved = ref frames[depth];
                        saved.Program = prog;
                        saved.ReturnPc = pc + 1;
                        saved.RegionCount = regions.Count;
                        saved.R6 = regs[6];
                        saved.R7 = regs[7];
                        saved.R8 = regs[8];
                        saved.R9 = regs[9];
                        saved.R10 = regs[10];
                        depth++;
                        regs[10] = EnterFrame(regions, depth);
                        pc += 1 + insn.Imm;
                        continue;
                    }

                    // A helper (src 0) or a kfunc (src 2). Helpers may call back into the program (bpf_loop), which
                    // runs on this thread with the counters kept in fields, so sync them around the call.
                    _executed = executed;
                    _depth = depth;
                    _current = prog;
                    regs[0] = src == (int)CallKind.Helper
                        ? CallHelper(pc, insn.Imm, ref regs)
                        : CallKfunc(pc, insn.Imm, ref regs);
                    executed = _executed;
                    if (Env.PendingTailCall is not null)
                    {
                        // bpf_tail_call succeeded: continue at the target's first slot in this frame, with r1 (the
                        // context) as it was; the stack frame stays. kernel: ___bpf_prog_run() JMP_TAIL_CALL.
                        if (TMode.Enabled)
                        {
                            TraceTailCall(baseDepth);
                        }

                        prog = TakeTailCall(Env, pc);
                        slots = prog.Slots;
                        pc = 0;
                        continue;
                    }

                    break;
                case Op.CallX:
                    // callx: the helper id is in register dst.
                    _executed = executed;
                    _depth = depth;
                    _current = prog;
                    regs[0] = CallHelper(pc, (long)regs[dst], ref regs);
                    executed = _executed;
                    if (Env.PendingTailCall is not null)
                    {
                        if (TMode.Enabled)
                        {
                            TraceTailCall(baseDepth);
                        }

                        prog = TakeTailCall(Env, pc);
                        slots = prog.Slots;
                        pc = 0;
                        continue;
                    }

                    break;
                case Op.Exit:
                    if (depth == baseDepth)
                    {
                        _executed = executed;
                        if (TMode.Enabled)
                        {
                            TraceEnd(baseDepth, in regs, -1, prog, depth);
                        }

                        return regs[0];
                    }

                    depth--;
                    ref CallFrame caller = ref frames[depth];
                    regs[6] = caller.R6;
                    regs[7] = caller.R7;
                    regs[8] = caller.R8;
                    regs[9] = caller.R9;
                    regs[10] = caller.R10;
                    regions.Truncate(caller.RegionCount);
                    pc = caller.ReturnPc;
                    prog = caller.Program!;
                    caller.Program = null;
                    slots = prog.Slots;
                    continue;

                // ---- LD: 64-bit immediate and the legacy packet loads ----
                case Op.LdDw:
                    if (src == (int)PseudoSrc.Imm64)
                    {
                        regs[dst] = BpfProgram.Combine(insn, slots[pc + 1]);
                    }
                    else if (src == (int)PseudoSrc.Func)
                    {
                        // BPF_PSEUDO_FUNC: the address of the function at pc + 1 + imm (for bpf_loop and friends).
                        regs[dst] = prog.FunctionAddress(pc + 1 + insn.Imm);
                    }
                    else
                    {
                        ThrowPseudoLoad(pc, src);
                    }

                    pc += 2;
                    continue;
                case Op.LdAbsW:
                case Op.LdAbsH:
                case Op.LdAbsB:
                case Op.LdIndW:
                case Op.LdIndH:
                case Op.LdIndB:
                    if (!LoadPacketLegacy(insn, ref regs, _ldPacket, _ldPacketLength))
                    {
                        // Out of bounds: the kernel ends the program (all its frames) with r0 = 0.
                        _executed = executed;
                        if (TMode.Enabled)
                        {
                            TraceEnd(baseDepth, in regs, -1, prog, depth);
                        }

                        return 0;
                    }

                    break;

                // ---- LDX ----
                case Op.LdxW:
                {
                    ulong a = regs[src] + off;
                    int region = CheckAccess(regions, pc, a, 4, write: false);
                    regs[dst] = region != contextRegion ? Unsafe.ReadUnaligned<uint>((void*)a) : LoadContext(pc, a, 4);
                    break;
                }

                case Op.LdxH: regs[dst] = Read<ushort>(regions, pc, regs[src] + off, contextRegion); break;
                case Op.LdxB: regs[dst] = Read<byte>(regions, pc, regs[src] + off, contextRegion); break;
                case Op.LdxDw: regs[dst] = Read<ulong>(regions, pc, regs[src] + off, contextRegion); break;
                case Op.LdxSW:
                {
                    ulong a = regs[src] + off;
                    int region = CheckAccess(regions, pc, a, 4, write: false);
                    regs[dst] = region != contextRegion ? (ulong)(long)Unsafe.ReadUnaligned<int>((void*)a) : LoadContextSigned(pc, a);
                    break;
                }

                case Op.LdxSH: regs[dst] = (ulong)(long)Read<short>(regions, pc, regs[src] + off, contextRegion); break;
                case Op.LdxSB: regs[dst] = (ulong)(long)Read<sbyte>(regions, pc, regs[src] + off, contextRegion); break;

                // ---- ST (imm) and STX (register) ----
                case Op.StW: Write(regions, pc, regs[dst] + off, imm32); break;
                case Op.StH: Write(regions, pc, regs[dst] + off, (ushort)imm32); break;
                case Op.StB: Write(regions, pc, regs[dst] + off, (byte)imm32); break;
                case Op.StDw: Write(regions, pc, regs[dst] + off, imm); break;
                case Op.StxW: Write(regions, pc, regs[dst] + off, (uint)regs[src]); break;
                case Op.StxH: Write(regions, pc, regs[dst] + off, (ushort)regs[src]); break;
                case Op.StxB: Write(regions, pc, regs[dst] + off, (byte)regs[src]); break;
                case Op.StxDw: Write(regions, pc, regs[dst] + off, regs[src]); break;
                case Op.AtomicW: Atomic32(regions, pc, insn, ref regs); break;
                case Op.AtomicDw: Atomic64(regions, pc, insn, ref regs); break;

                default:
                    ThrowInvalidOpcode(pc, insn.Opcode);
                    break;
            }

            pc++;
        }
    }

    private static ulong Div64(ulong dst, ulong src, short offset) =>
        offset == 0 ? BpfMath.UDiv64(dst, src) : BpfMath.SDiv64(dst, src);

    private static ulong Mod64(ulong dst, ulong src, short offset) =>
        offset == 0 ? BpfMath.UMod64(dst, src) : BpfMath.SMod64(dst, src);

    private static uint Div32(uint dst, uint src, short offset) =>
        offset == 0 ? BpfMath.UDiv32(dst, src) : BpfMath.SDiv32(dst, src);

    // x % 0 leaves the low 32 bits of dst; the caller zero-extends the result like any ALU result.
    private static uint Mod32(uint dst, uint src, short offset) =>
        offset == 0 ? BpfMath.UMod32(dst, src) : BpfMath.SMod32(dst, src);

    // mov (offset 0) or movsx (offset 8/16/32: sign-extend the low bits of src).
    private static ulong MovSx64(ulong src, short offset) => offset switch
    {
        8 => (ulong)(long)(sbyte)src,
        16 => (ulong)(long)(short)src,
        32 => (ulong)(long)(int)src,
        _ => src,
    };

    // mov32 (offset 0) or movsx32 (offset 8/16); the result is zero-extended to 64 bits.
    private static uint MovSx32(ulong src, short offset) => offset switch
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
