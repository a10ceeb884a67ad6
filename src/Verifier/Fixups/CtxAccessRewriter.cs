using VethXdp.Verifier.Context;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Fixups;

/// <summary>Rewrites the program's context accesses into accesses of the kernel's own structures, as Linux 6.18 does
/// after verification (kernel/bpf/verifier.c: convert_ctx_accesses; net/core/filter.c: xdp_convert_ctx_access,
/// bpf_convert_ctx_access, tc_cls_act_convert_ctx_access, bpf_unclone_prologue).</summary>
/// <remarks>
/// <para>Input: the slots as they stand when the kernel calls convert_ctx_accesses (after dead-code removal and nop
/// removal), and for each slot whether the verifier saw it access PTR_TO_CTX and the field size it recorded.</para>
/// <para>Each 4-byte <c>xdp_md</c> load becomes a load from <c>struct xdp_buff</c> (a pointer: 8 bytes) or a chain of
/// loads (ingress_ifindex: rxq, dev, ifindex). Each <c>__sk_buff</c> access becomes loads and stores of
/// <c>struct sk_buff</c> at the offsets of <see cref="SkBuffLayout"/>; a narrow load of a field with a recorded size
/// loads the whole field, then shifts the wanted bytes down and masks them (little-endian); a sign-extending load
/// ends with a sign-extending move. tc programs that write packet data directly get the unclone prologue. Register
/// 11 (BPF_REG_AX) is the kernel's scratch register, which the rewrites use and the program cannot name.</para>
/// </remarks>
public static class CtxAccessRewriter
{
    private const int InsnBufSize = 32;   // INSN_BUF_SIZE
    private const int RegAx = 11;         // BPF_REG_AX

    // Opcode parts (include/uapi/linux/bpf_common.h).
    private const byte ClsLdx = 0x01, ClsStx = 0x03, ClsAlu = 0x04, ClsJmp = 0x05, ClsJmp32 = 0x06, ClsAlu64 = 0x07;
    private const byte SzW = 0x00, SzH = 0x08, SzB = 0x10, SzDw = 0x18;
    private const byte ModeMem = 0x60;
    private const byte SrcK = 0x00, SrcX = 0x08;

    /// <summary>Rewrites the context accesses of <paramref name="slots"/>.</summary>
    /// <param name="model">The program type's context model.</param>
    /// <param name="slots">The program's slots.</param>
    /// <param name="marks">One per slot: did the verifier see it access the context, and with which field size.</param>
    /// <param name="seenDirectWrite">env-&gt;seen_direct_write: the program wrote packet data directly (tc gets its
    /// unclone prologue).</param>
    /// <returns>The rewritten slots and the index map; <see cref="CtxRewriteResult.FailedInsn"/> names the slot
    /// whose rewrite pushed a jump out of range.</returns>
    /// <exception cref="VerifierBugException">A marked slot is not a load or store the model accepts (the kernel's
    /// verifier_bug "error during ctx access conversion").</exception>
    // kernel: convert_ctx_accesses()
    public static CtxRewriteResult Rewrite(ContextModel model, ReadOnlySpan<Instruction> slots, ReadOnlySpan<CtxAccessMark> marks, bool seenDirectWrite)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (marks.Length != slots.Length)
        {
            throw new ArgumentException($"{marks.Length} marks for {slots.Length} slots", nameof(marks));
        }

        var patcher = new InsnPatcher(slots);
        Span<Instruction> buf = stackalloc Instruction[InsnBufSize];

        // gen_prologue: only tc's does anything, and only when the program writes packet data (an skb clone shares
        // its data, so it must be uncloned before the first write).
        int prologueLength = 0;
        if (seenDirectWrite && model.Type is ProgramType.SchedCls or ProgramType.SchedAct && slots.Length > 0)
        {
            int cnt = UncloneProlog(buf, SkBuffLayout.TcActShot);
            patcher.SetPrologue(buf[..cnt]);
            prologueLength = cnt;
        }

        // tc_cls_act_is_valid_access sets prog->tstamp_type_access when the program reads __sk_buff->tstamp_type:
        // tstamp is then read and written as it is.
        bool tstampTypeAccess = false;
        if (model is TcClsActContextModel)
        {
            for (int i = 0; i < slots.Length; i++)
            {
                if (marks[i].IsCtxAccess && slots[i].Offset == SkBuffMd.TstampType)
                {
                    tstampTypeAccess = true;
                }
            }
        }

        for (int i = 0; i < slots.Length; i++)
        {
            if (!marks[i].IsCtxAccess)
            {
                continue;
            }

            Instruction insn = slots[i];
            CtxAccessType type;
            if (insn.Class == OpClass.Ldx && (insn.Mode == MemMode.Mem || (insn.Mode == MemMode.MemSx && insn.MemSize != MemSize.DW)))
            {
                type = CtxAccessType.Read;
            }
            else if (insn.Class is OpClass.Stx or OpClass.St && insn.Mode == MemMode.Mem)
            {
                type = CtxAccessType.Write;
            }
            else
            {
                continue;   // not a load or store (the kernel's loop skips it too)
            }

            int ctxFieldSize = marks[i].CtxFieldSize;
            int size = insn.AccessBytes;
            bool isLdsx = insn.Mode == MemMode.MemSx;

            // A narrow read of a field with a recorded size becomes a load of the whole, aligned field.
            bool isNarrowerLoad = size < ctxFieldSize;
            int sizeDefault = ctxFieldSize;   // bpf_ctx_off_adjust_machine: the same on 64-bit
            int off = insn.Offset;
            Instruction si = insn;
            if (isNarrowerLoad)
            {
                if (type == CtxAccessType.Write)
                {
                    throw new VerifierBugException("narrow ctx access misconfigured");
                }

                byte sizeCode = ctxFieldSize switch { 4 => SzW, 8 => SzDw, _ => SzH };
                si = new Instruction((byte)(ClsLdx | ModeMem | sizeCode), insn.Regs, (short)(off & ~(sizeDefault - 1)), insn.Imm);
            }

            int targetSize = 0;
            int count = model switch
            {
                XdpContextModel => XdpConvertCtxAccess(si, buf),
                SocketFilterContextModel => BpfConvertCtxAccess(type, si, buf, tstampTypeAccess, ref targetSize),
                TcClsActContextModel => TcClsActConvertCtxAccess(type, si, buf, tstampTypeAccess, ref targetSize),
                _ => 0,
            };
            if (count == 0 || count >= InsnBufSize || (ctxFieldSize != 0 && targetSize == 0))
            {
                throw new VerifierBugException(CtxMessages.ConversionError.Replace("{0}", count.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal) + $" at insn {i}");
            }

            if (isNarrowerLoad && size < targetSize)
            {
                // bpf_ctx_narrow_access_offset (little-endian): the wanted bytes start (off % field size) bytes in.
                int shift = (off & (sizeDefault - 1)) * 8;
                int dst = si.DstReg;
                if (ctxFieldSize <= 4)
                {
                    if (shift != 0)
                    {
                        buf[count++] = Alu(ClsAlu, AluOp.Rsh, dst, shift);
                    }

                    buf[count++] = Alu(ClsAlu, AluOp.And, dst, (int)((1u << (size * 8)) - 1));
                }
                else
                {
                    if (shift != 0)
                    {
                        buf[count++] = Alu(ClsAlu64, AluOp.Rsh, dst, shift);
                    }

                    // The kernel masks with an imm32: for a 4-byte part of an 8-byte field that is -1, a no-op.
                    buf[count++] = Alu(ClsAlu64, AluOp.And, dst, (int)(uint)((1UL << (size * 8)) - 1));
                }
            }

            if (isLdsx)
            {
                // dst = (s8/s16/s32) dst: BPF_ALU64 | BPF_MOV | BPF_X with the width in off.
                buf[count++] = Raw(ClsAlu64 | (byte)AluOp.Mov | SrcX, si.DstReg, si.DstReg, (short)(size * 8), 0);
            }

            patcher.Replace(i, buf[..count]);
        }

        patcher.TryBuild(out Instruction[] rewritten, out int[] newIndex, out int failed);
        return new CtxRewriteResult(rewritten, newIndex, prologueLength, failed);
    }

    // kernel: bpf_unclone_prologue(); the original slot 0 follows (InsnPatcher places it).
    private static int UncloneProlog(Span<Instruction> buf, int dropVerdict)
    {
        int n = 0;
        buf[n++] = Ldx(SzB, 6, 1, SkBuffLayout.ClonedOffset);          // if (!skb->cloned)
        buf[n++] = Alu(ClsAlu, AluOp.And, 6, SkBuffLayout.ClonedMask);
        buf[n++] = JmpImm(ClsJmp, JmpOp.Jeq, 6, 0, 7);                  //     goto start;
        buf[n++] = Raw(ClsAlu64 | (byte)AluOp.Mov | SrcX, 6, 1, 0, 0);   // r6 = skb
        buf[n++] = Raw(ClsAlu64 | (byte)AluOp.Xor | SrcX, 2, 2, 0, 0);   // ret = bpf_skb_pull_data(skb, 0)
        buf[n++] = Raw(ClsJmp | (byte)JmpOp.Call, 0, 0, 0, SkBuffLayout.FuncSkbPullData);
        buf[n++] = JmpImm(ClsJmp, JmpOp.Jeq, 0, 0, 2);                  // if (!ret) goto restore;
        buf[n++] = Alu(ClsAlu, AluOp.Mov, 0, dropVerdict);              // return TC_ACT_SHOT;
        buf[n++] = Raw(ClsJmp | (byte)JmpOp.Exit, 0, 0, 0, 0);
        buf[n++] = Raw(ClsAlu64 | (byte)AluOp.Mov | SrcX, 1, 6, 0, 0);   // restore: r1 = r6
        return n;
    }

    // kernel: xdp_convert_ctx_access()
    private static int XdpConvertCtxAccess(in Instruction si, Span<Instruction> buf)
    {
        int dst = si.DstReg, src = si.SrcReg, n = 0;
        switch (si.Offset)
        {
            case XdpMd.Data:
                buf[n++] = Ldx(SzDw, dst, src, XdpBuffLayout.Data);
                break;
            case XdpMd.DataMeta:
                buf[n++] = Ldx(SzDw, dst, src, XdpBuffLayout.DataMeta);
                break;
            case XdpMd.DataEnd:
                buf[n++] = Ldx(SzDw, dst, src, XdpBuffLayout.DataEnd);
                break;
            case XdpMd.IngressIfindex:
                buf[n++] = Ldx(SzDw, dst, src, XdpBuffLayout.Rxq);
                buf[n++] = Ldx(SzDw, dst, dst, XdpBuffLayout.RxqDev);
                buf[n++] = Ldx(SzW, dst, dst, XdpBuffLayout.NetDeviceIfindex);
                break;
            case XdpMd.RxQueueIndex:
                buf[n++] = Ldx(SzDw, dst, src, XdpBuffLayout.Rxq);
                buf[n++] = Ldx(SzW, dst, dst, XdpBuffLayout.RxqQueueIndex);
                break;
            case XdpMd.EgressIfindex:
                buf[n++] = Ldx(SzDw, dst, src, XdpBuffLayout.Txq);
                buf[n++] = Ldx(SzDw, dst, dst, XdpBuffLayout.TxqDev);
                buf[n++] = Ldx(SzW, dst, dst, XdpBuffLayout.NetDeviceIfindex);
                break;
        }

        return n;
    }

    // kernel: tc_cls_act_convert_ctx_access(): tc's skb always has a device, so ifindex needs no NULL check.
    private static int TcClsActConvertCtxAccess(CtxAccessType type, in Instruction si, Span<Instruction> buf, bool tstampTypeAccess, ref int targetSize)
    {
        if (si.Offset == SkBuffMd.Ifindex)
        {
            buf[0] = Ldx(SzDw, si.DstReg, si.SrcReg, SkBuffLayout.Dev);
            buf[1] = Ldx(SzW, si.DstReg, si.DstReg, Target(SkBuffLayout.NetDeviceIfindex, 4, ref targetSize));
            return 2;
        }

        return BpfConvertCtxAccess(type, si, buf, tstampTypeAccess, ref targetSize);
    }

    // kernel: bpf_convert_ctx_access(): the __sk_buff fields common to socket filters and tc.
    private static int BpfConvertCtxAccess(CtxAccessType type, in Instruction si, Span<Instruction> buf, bool tstampTypeAccess, ref int targetSize)
    {
        int dst = si.DstReg, src = si.SrcReg, n = 0;
        bool write = type == CtxAccessType.Write;
        int off = si.Offset;
        switch (off)
        {
            case SkBuffMd.Len:
                buf[n++] = Ldx(SzW, dst, src, Target(SkBuffLayout.Len, 4, ref targetSize));
                break;
            case SkBuffMd.Protocol:
                buf[n++] = Ldx(SzH, dst, src, Target(SkBuffLayout.Protocol, 2, ref targetSize));
                break;
            case SkBuffMd.VlanProto:
                buf[n++] = Ldx(SzH, dst, src, Target(SkBuffLayout.VlanProto, 2, ref targetSize));
                break;
            case SkBuffMd.Priority:
                buf[n++] = write
                    ? Store(SzW, si, Target(SkBuffLayout.Priority, 4, ref targetSize))
                    : Ldx(SzW, dst, src, Target(SkBuffLayout.Priority, 4, ref targetSize));
                break;
            case SkBuffMd.IngressIfindex:
                buf[n++] = Ldx(SzW, dst, src, Target(SkBuffLayout.SkbIif, 4, ref targetSize));
                break;
            case SkBuffMd.Ifindex:
                // skb->dev may be NULL for a socket filter: then the result is 0 (the NULL itself).
                buf[n++] = Ldx(SzDw, dst, src, SkBuffLayout.Dev);
                buf[n++] = JmpImm(ClsJmp, JmpOp.Jeq, dst, 0, 1);
                buf[n++] = Ldx(SzW, dst, dst, Target(SkBuffLayout.NetDeviceIfindex, 4, ref targetSize));
                break;
            case SkBuffMd.Hash:
                buf[n++] = Ldx(SzW, dst, src, Target(SkBuffLayout.Hash, 4, ref targetSize));
                break;
            case SkBuffMd.Mark:
                buf[n++] = write
                    ? Store(SzW, si, Target(SkBuffLayout.Mark, 4, ref targetSize))
                    : Ldx(SzW, dst, src, Target(SkBuffLayout.Mark, 4, ref targetSize));
                break;
            case SkBuffMd.PktType:
                targetSize = 1;
                buf[n++] = Ldx(SzB, dst, src, SkBuffLayout.PktTypeOffset);
                buf[n++] = Alu(ClsAlu, AluOp.And, dst, SkBuffLayout.PktTypeMax);
                break;
            case SkBuffMd.QueueMapping:
                if (write)
                {
                    short target = Target(SkBuffLayout.QueueMapping, 2, ref targetSize);
                    if (si.Class == OpClass.St && si.Imm >= SkBuffLayout.NoQueueMapping)
                    {
                        buf[n++] = JmpA(0);   // a constant that means "no mapping": the store is dropped (a nop)
                        break;
                    }

                    if (si.Class == OpClass.Stx)
                    {
                        buf[n++] = JmpImm(ClsJmp, JmpOp.Jge, src, SkBuffLayout.NoQueueMapping, 1);
                    }

                    buf[n++] = Store(SzH, si, target);
                }
                else
                {
                    buf[n++] = Ldx(SzH, dst, src, Target(SkBuffLayout.QueueMapping, 2, ref targetSize));
                }

                break;
            case SkBuffMd.VlanPresent:
                // vlan_present = vlan_all != 0
                buf[n++] = Ldx(SzW, dst, src, Target(SkBuffLayout.VlanAll, 4, ref targetSize));
                buf[n++] = JmpImm(ClsJmp, JmpOp.Jeq, dst, 0, 1);
                buf[n++] = Alu(ClsAlu, AluOp.Mov, dst, 1);
                break;
            case SkBuffMd.VlanTci:
                buf[n++] = Ldx(SzH, dst, src, Target(SkBuffLayout.VlanTci, 2, ref targetSize));
                break;
            case >= SkBuffMd.Cb and < SkBuffMd.CbEnd:
            {
                // cb[] lives in qdisc_skb_cb.data; any size, no field size (prog->cb_access is set: no instruction).
                short at = (short)(off - SkBuffMd.Cb + SkBuffLayout.CbData);
                byte size = (byte)(si.Opcode & 0x18);
                buf[n++] = write ? Store(size, si, at) : Ldx(size, dst, src, at);
                break;
            }

            case >= SkBuffMd.TcClassid and < SkBuffMd.TcClassid + 4:
            {
                short at = (short)(off - SkBuffMd.TcClassid + SkBuffLayout.CbTcClassid);
                targetSize = 2;
                buf[n++] = write ? Store(SzH, si, at) : Ldx(SzH, dst, src, at);
                break;
            }

            case SkBuffMd.Data:
                buf[n++] = Ldx(SzDw, dst, src, SkBuffLayout.Data);
                break;
            case SkBuffMd.DataMeta:
                buf[n++] = Ldx(SzDw, dst, src, SkBuffLayout.CbDataMeta);
                break;
            case SkBuffMd.DataEnd:
                buf[n++] = Ldx(SzDw, dst, src, SkBuffLayout.CbDataEnd);
                break;
            case SkBuffMd.TcIndex:
                buf[n++] = write
                    ? Store(SzH, si, Target(SkBuffLayout.TcIndex, 2, ref targetSize))
                    : Ldx(SzH, dst, src, Target(SkBuffLayout.TcIndex, 2, ref targetSize));
                break;
            case SkBuffMd.NapiId:
                // Values below MIN_NAPI_ID are sender CPU numbers, not NAPI ids: read as 0.
                buf[n++] = Ldx(SzW, dst, src, Target(SkBuffLayout.NapiId, 4, ref targetSize));
                buf[n++] = JmpImm(ClsJmp, JmpOp.Jge, dst, SkBuffLayout.MinNapiId, 1);
                buf[n++] = Alu(ClsAlu64, AluOp.Mov, dst, 0);
                break;
            case SkBuffMd.Tstamp:
                targetSize = 8;
                n = write ? ConvertTstampWrite(si, buf, tstampTypeAccess) : ConvertTstampRead(si, buf, tstampTypeAccess);
                break;
            case SkBuffMd.GsoSegs:
                n = ConvertShinfoAccess(dst, src, buf);
                buf[n++] = Ldx(SzH, dst, dst, Target(SkBuffLayout.ShinfoGsoSegs, 2, ref targetSize));
                break;
            case SkBuffMd.GsoSize:
                n = ConvertShinfoAccess(dst, src, buf);
                buf[n++] = Ldx(SzH, dst, dst, Target(SkBuffLayout.ShinfoGsoSize, 2, ref targetSize));
                break;
            case SkBuffMd.WireLen:
                targetSize = 4;
                buf[n++] = Ldx(SzW, dst, src, SkBuffLayout.CbPktLen);
                break;
            case SkBuffMd.Sk:
                buf[n++] = Ldx(SzDw, dst, src, SkBuffLayout.Sk);
                break;
            case SkBuffMd.TstampType:
                // bpf_convert_tstamp_type_read()
                buf[n++] = Ldx(SzB, dst, src, SkBuffLayout.MonoTcOffset);
                buf[n++] = Alu(ClsAlu, AluOp.And, dst, SkBuffLayout.TstampTypeMask);
                break;
            case SkBuffMd.Hwtstamp:
                n = ConvertShinfoAccess(dst, src, buf);
                buf[n++] = Ldx(SzDw, dst, dst, Target(SkBuffLayout.ShinfoHwtstamps, 8, ref targetSize));
                break;
        }

        return n;
    }

    // kernel: bpf_convert_shinfo_access(): dst = skb->head + skb->end (NET_SKBUFF_DATA_USES_OFFSET on 64-bit).
    private static int ConvertShinfoAccess(int dst, int src, Span<Instruction> buf)
    {
        buf[0] = Ldx(SzW, RegAx, src, SkBuffLayout.End);
        buf[1] = Ldx(SzDw, dst, src, SkBuffLayout.Head);
        buf[2] = Raw(ClsAlu64 | (byte)AluOp.Add | SrcX, dst, RegAx, 0, 0);
        return 3;
    }

    // kernel: bpf_convert_tstamp_read(): unless the program reads tstamp_type, a delivery time seen at tc ingress
    // reads as 0.
    private static int ConvertTstampRead(in Instruction si, Span<Instruction> buf, bool tstampTypeAccess)
    {
        int value = si.DstReg, skb = si.SrcReg, n = 0;
        if (!tstampTypeAccess)
        {
            buf[n++] = Ldx(SzB, RegAx, skb, SkBuffLayout.MonoTcOffset);
            buf[n++] = JmpImm(ClsJmp32, JmpOp.Jset, RegAx, SkBuffLayout.TcAtIngressMask, 1);
            buf[n++] = JmpA(4);
            buf[n++] = JmpImm(ClsJmp32, JmpOp.Jset, RegAx, SkBuffLayout.TstampTypeMask, 1);
            buf[n++] = JmpA(2);
            buf[n++] = Alu(ClsAlu64, AluOp.Mov, value, 0);
            buf[n++] = JmpA(1);
        }

        buf[n++] = Ldx(SzDw, value, skb, SkBuffLayout.Tstamp);
        return n;
    }

    // kernel: bpf_convert_tstamp_write(): unless the program reads tstamp_type, a write at tc ingress also clears
    // tstamp_type (the value is a receive time).
    private static int ConvertTstampWrite(in Instruction si, Span<Instruction> buf, bool tstampTypeAccess)
    {
        int skb = si.DstReg, n = 0;
        if (!tstampTypeAccess)
        {
            buf[n++] = Ldx(SzB, RegAx, skb, SkBuffLayout.MonoTcOffset);
            buf[n++] = JmpImm(ClsJmp32, JmpOp.Jset, RegAx, SkBuffLayout.TcAtIngressMask, 1);
            buf[n++] = JmpA(2);
            buf[n++] = Alu(ClsAlu, AluOp.And, RegAx, ~SkBuffLayout.TstampTypeMask);
            buf[n++] = Raw(ClsStx | ModeMem | SzB, skb, RegAx, SkBuffLayout.MonoTcOffset, 0);
        }

        buf[n++] = Store(SzDw, si, SkBuffLayout.Tstamp);
        return n;
    }

    // bpf_target_off(): the offset, recording the size of the kernel field it names.
    private static short Target(short offset, int size, ref int targetSize)
    {
        targetSize = size;
        return offset;
    }

    private static Instruction Raw(int opcode, int dst, int src, short off, int imm) =>
        new((byte)opcode, (byte)((src << 4) | (dst & 0x0f)), off, imm);

    private static Instruction Ldx(byte size, int dst, int src, short off) => Raw(ClsLdx | ModeMem | size, dst, src, off, 0);

    // BPF_EMIT_STORE: keeps the class (ST or STX), the source register and the immediate of the original store.
    private static Instruction Store(byte size, in Instruction si, short off) =>
        Raw((byte)(si.Opcode & 0x07) | ModeMem | size, si.DstReg, si.SrcReg, off, si.Imm);

    private static Instruction Alu(byte cls, AluOp op, int dst, int imm) => Raw(cls | (byte)op | SrcK, dst, 0, 0, imm);

    private static Instruction JmpImm(byte cls, JmpOp op, int dst, int imm, short off) => Raw(cls | (byte)op | SrcK, dst, 0, off, imm);

    private static Instruction JmpA(short off) => Raw(ClsJmp | (byte)JmpOp.Ja, 0, 0, off, 0);
}
