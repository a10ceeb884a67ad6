using System.Globalization;
using System.Text;
using VethXdp.Verifier.Domains;
using VethXdp.Verifier.State;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Checks;

// kernel/bpf/log.c: reg_type_str(), print_reg_state(), print_verifier_state(), print_insn_state(), and the
// scratch marks that decide which registers an instruction line shows.
internal sealed partial class VerifierEnv
{
    private const int LogAlignment = 40;     // BPF_LOG_ALIGNMENT
    private const int LogMinAlignment = 8;   // BPF_LOG_MIN_ALIGNMENT

    private static readonly string[] s_regTypeNames =
    [
        "?", "scalar", "ctx", "map_ptr", "map_value", "map_key", "fp", "pkt_meta", "pkt", "pkt_end", "flow_keys",
        "sock", "sock_common", "tcp_sock", "tp_buffer", "xdp_sock", "ptr_", "mem", "arena", "buf", "func", "dynptr_ptr",
    ];

    /// <summary>reg_type_str(): prefixes for the modifiers, the base name, <c>_or_null</c>.</summary>
    internal static string RegTypeText(RegType type, RegTypeFlags flags)
    {
        var sb = new StringBuilder();
        if ((flags & RegTypeFlags.MemRdonly) != 0) sb.Append("rdonly_");
        if ((flags & RegTypeFlags.MemRingbuf) != 0) sb.Append("ringbuf_");
        if ((flags & RegTypeFlags.MemUser) != 0) sb.Append("user_");
        if ((flags & RegTypeFlags.MemPercpu) != 0) sb.Append("percpu_");
        if ((flags & RegTypeFlags.MemRcu) != 0) sb.Append("rcu_");
        if ((flags & RegTypeFlags.PtrUntrusted) != 0) sb.Append("untrusted_");
        if ((flags & RegTypeFlags.PtrTrusted) != 0) sb.Append("trusted_");
        sb.Append(s_regTypeNames[(int)type]);
        if ((flags & RegTypeFlags.MaybeNull) != 0)
        {
            sb.Append(type == RegType.PtrToBtfId ? "or_null_" : "_or_null");
        }

        return sb.ToString();
    }

    private static string RegTypeText(in RegState reg) => RegTypeText(reg.Type, reg.Flags);

    /// <summary>tnum_strn(): a constant in decimal up to 65535, else hex; otherwise (value; mask).</summary>
    internal static string TnumText(Tnum t)
    {
        if (t.Mask == 0)
        {
            return t.Value <= ushort.MaxValue ? t.Value.ToString(CultureInfo.InvariantCulture) : "0x" + t.Value.ToString("x", CultureInfo.InvariantCulture);
        }

        return $"(0x{t.Value:x}; 0x{t.Mask:x})";
    }

    private static void AppendSnum(StringBuilder sb, long v) => ScalarBounds.AppendSnum(sb, v);

    private static void AppendUnum(StringBuilder sb, ulong v) => ScalarBounds.AppendUnum(sb, v);

    /// <summary>print_reg_state()</summary>
    internal void AppendRegState(StringBuilder sb, FuncState frame, in RegState reg)
    {
        var t = reg.Type;
        if (t == RegType.Scalar && reg.Precise)
        {
            sb.Append('P');
        }

        if (t == RegType.Scalar && reg.Bounds.VarOff.IsConst)
        {
            AppendSnum(sb, (long)reg.Bounds.VarOff.Value);
            return;
        }

        sb.Append(RegTypeText(reg));
        if (t == RegType.PtrToArena)
        {
            return;
        }

        if (t == RegType.PtrToStack)
        {
            if (frame.Frameno != reg.Frameno)
            {
                sb.Append('[').Append(reg.Frameno.ToString(CultureInfo.InvariantCulture)).Append(']');
            }

            if (reg.Bounds.VarOff.IsConst)
            {
                AppendSnum(sb, (long)reg.Bounds.VarOff.Value + reg.Off);
                return;
            }
        }

        if (t == RegType.PtrToBtfId)
        {
            sb.Append(reg.BtfType);
        }

        sb.Append('(');
        bool first = true;
        void Sep()
        {
            if (!first)
            {
                sb.Append(',');
            }

            first = false;
        }

        if (reg.Id != 0)
        {
            Sep();
            sb.Append("id=").Append(reg.BaseId.ToString(CultureInfo.InvariantCulture));
            if ((reg.Id & RegState.AddConst) != 0)
            {
                // "id=58+1": the scalar with id 58 plus 1 (%+d of off)
                sb.Append(reg.Off >= 0 ? "+" : string.Empty).Append(reg.Off.ToString(CultureInfo.InvariantCulture));
            }
        }

        if (reg.RefObjId != 0)
        {
            Sep();
            sb.Append("ref_obj_id=").Append(reg.RefObjId.ToString(CultureInfo.InvariantCulture));
        }

        if (t is RegType.ConstPtrToMap or RegType.PtrToMapKey or RegType.PtrToMapValue && (uint)reg.MapIndex < (uint)Maps.Count)
        {
            var map = Maps[reg.MapIndex];
            if (map.Name.Length > 0)
            {
                Sep();
                sb.Append("map=").Append(KernelMapName(map.Name));
            }

            Sep();
            sb.Append("ks=").Append(map.KeySize.ToString(CultureInfo.InvariantCulture))
              .Append(",vs=").Append(map.ValueSize.ToString(CultureInfo.InvariantCulture));
        }

        if (t != RegType.Scalar && reg.Off != 0)
        {
            Sep();
            sb.Append("off=");
            AppendSnum(sb, reg.Off);
        }

        if (reg.IsPktPointer)
        {
            Sep();
            sb.Append("r=");
            AppendUnum(sb, (ulong)(long)reg.Range);
        }

        if (t == RegType.PtrToMem)
        {
            Sep();
            sb.Append("sz=");
            AppendUnum(sb, (ulong)(uint)reg.MemSize);
        }

        if (t == RegType.ConstPtrToDynptr)
        {
            // a callback's dynptr argument (bpf_user_ringbuf_drain): "dynptr_ptr(id=2,type=local)"
            Sep();
            sb.Append("type=").Append(DynptrTypeText(reg.Flags));
        }

        if (reg.Bounds.VarOff.IsConst)
        {
            // a pointer register with fixed offset
            if (reg.Bounds.VarOff.Value != 0)
            {
                Sep();
                sb.Append("imm=");
                AppendSnum(sb, (long)reg.Bounds.VarOff.Value);
            }
        }
        else
        {
            var rangesSb = new StringBuilder();
            bool firstRange = first;
            reg.Bounds.AppendRanges(rangesSb, ref firstRange);
            sb.Append(rangesSb);
            first = firstRange;
            if (!reg.Bounds.VarOff.IsUnknown)
            {
                Sep();
                sb.Append("var_off=").Append(TnumText(reg.Bounds.VarOff));
            }
        }

        sb.Append(')');
    }

    // The kernel keeps at most BPF_OBJ_NAME_LEN - 1 = 15 characters of a map's name.
    private static string KernelMapName(string name) => name.Length > 15 ? name[..15] : name;

    private bool StateScratched => _scratchedRegs != 0 || _scratchedStack != 0;

    private void MarkRegScratched(int regno) => _scratchedRegs |= 1u << regno;

    private void MarkAllScratched()
    {
        _scratchedRegs = 0x7ff;
        _scratchedStack = ulong.MaxValue;
    }

    /// <summary>print_verifier_state(): the frame's scratched (or all) registers and stack slots, and references.</summary>
    internal void PrintVerifierState(VerifierState vstate, int frameno, bool printAll)
    {
        if (!_log.IsLevel1Or2)
        {
            return;
        }

        var sb = new StringBuilder();
        var state = vstate.Frames[frameno]!;
        if (state.Frameno != 0)
        {
            sb.Append(" frame").Append(state.Frameno.ToString(CultureInfo.InvariantCulture)).Append(':');
        }

        for (int i = 0; i < 11; i++)
        {
            var reg = state.Regs[i];
            if (reg.Type == RegType.NotInit || (!printAll && (_scratchedRegs & (1u << i)) == 0))
            {
                continue;
            }

            sb.Append(" R").Append(i.ToString(CultureInfo.InvariantCulture)).Append('=');
            AppendRegState(sb, state, reg);
        }

        Span<char> types = stackalloc char[8];
        for (int i = 0; i < state.AllocatedStack / 8; i++)
        {
            if (!printAll && (_scratchedStack & (1UL << i)) == 0)
            {
                continue;
            }

            var st = state.Stack[i];
            bool valid = false;
            for (int j = 0; j < 8; j++)
            {
                if (st.Types[j] != SlotType.Invalid)
                {
                    valid = true;
                }

                types[j] = SlotChar(st.Types[j]);
            }

            if (!valid)
            {
                continue;
            }

            string fp = ((-i - 1) * 8).ToString(CultureInfo.InvariantCulture);
            if (st.Types[7] == SlotType.Spill)
            {
                // print MISC/ZERO/INVALID slots above a subregister spill
                int j = 0;
                while (j < 8 && st.Types[j] != SlotType.Spill)
                {
                    j++;
                }

                sb.Append(" fp").Append(fp).Append('=').Append(types[..j]);
                AppendRegState(sb, state, st.Spilled);
            }
            else
            {
                sb.Append(" fp").Append(fp).Append('=').Append(types);
            }
        }

        if (vstate.Refs.Count > 0)
        {
            sb.Append(" refs=").Append(vstate.Refs[0].Id.ToString(CultureInfo.InvariantCulture));
            for (int i = 1; i < vstate.Refs.Count; i++)
            {
                sb.Append(',').Append(vstate.Refs[i].Id.ToString(CultureInfo.InvariantCulture));
            }
        }

        if (state.InCallbackFn)
        {
            sb.Append(" cb");
        }

        sb.Append('\n');
        _log.Write(sb.ToString());
        if (!printAll)
        {
            _scratchedRegs = 0;
            _scratchedStack = 0;
        }
    }

    private static char SlotChar(SlotType t) => t switch
    {
        SlotType.Spill => 'r',
        SlotType.Misc => 'm',
        SlotType.Zero => '0',
        SlotType.Dynptr => 'd',
        SlotType.Iter => 'i',
        SlotType.IrqFlag => 'f',
        _ => '?',
    };

    // vlog_alignment()
    private static int VlogAlignment(int pos) =>
        RoundUp(Math.Max(pos + (LogMinAlignment / 2), LogAlignment), LogMinAlignment) - pos - 1;

    private static int RoundUp(int x, int a) => (x + a - 1) / a * a;

    /// <summary>print_insn_state(): the state after an instruction, on the same line when nothing was written
    /// since the instruction (aligned at a ';'), otherwise on a line of its own headed by the insn index.</summary>
    private void PrintInsnState()
    {
        if (_prevLogPos != 0 && _prevLogPos == _log.Position)
        {
            // remove the newline character
            _log.ResetTo(_prevLogPos - 1);
            _log.Write(new string(' ', VlogAlignment(_prevInsnPrintPos)) + ";");
        }
        else
        {
            _log.Write($"{_insnIdx}:");
        }

        PrintVerifierState(_cur, _cur.CurFrame, printAll: false);
    }

    /// <summary>The instruction as the kernel's log prints it (print_bpf_insn with allow_ptr_leaks): map loads show
    /// the map's address (a stand-in address here, stable per map).</summary>
    private string FormatInsn(int idx) => FormatInsnText(_insns, idx);

    /// <summary>The log's text of one instruction, opcode included: <c>(61) r2 = *(u32 *)(r1 +4)</c>.</summary>
    internal static string FormatInsnText(Instruction[] insns, int idx)
    {
        var insn = insns[idx];
        if (insn.IsLdImm64 && idx + 1 < insns.Length && insn.SrcReg is 1 or 2 or 5 or 6)
        {
            ulong addr = MapAddress(insn.Imm);
            if (insn.SrcReg is 2 or 6)
            {
                addr += (uint)insns[idx + 1].Imm;
            }

            return $"(18) r{insn.DstReg} = 0x{addr:x}";
        }

        if (insn.Opcode == Op.Call && insn.SrcReg == (int)CallKind.Kfunc && Kfuncs.NameOf((KfuncId)insn.Imm) is var kfunc &&
            kfunc != "unknown")
        {
            // the verifier's cb_call (disasm_kfunc_name()) names the kfunc; the number is our kfunc id where Linux
            // prints the function's BTF id in vmlinux (docs/differences.md)
            return FormattableString.Invariant($"({insn.Opcode:x2}) call {kfunc}#{insn.Imm}");
        }

        string text = KernelFormatter.Format(insns, idx);
        // print_bpf_insn() writes "(op) " per case; an instruction it does not know is just "BUG_op"
        return text.StartsWith("BUG_", StringComparison.Ordinal) ? text : $"({insn.Opcode:x2}) {text}";
    }

    /// <summary>A stand-in kernel address for map <paramref name="index"/> (the log shows map pointers).</summary>
    internal static ulong MapAddress(int index) => 0xffff888100000000UL + ((ulong)(uint)(index + 1) << 12);
}
