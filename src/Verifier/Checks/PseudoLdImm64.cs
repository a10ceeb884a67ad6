using VethXdp.Verifier.Cfg;
using VethXdp.Verifier.Log;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;

namespace VethXdp.Verifier.Checks;

/// <summary>The pass before the control-flow checks (<c>resolve_pseudo_ldimm64()</c>): every opcode must exist, every
/// 64-bit immediate load must have its second slot, and map loads must name a map that supports them.</summary>
internal static class PseudoLdImm64
{
    /// <summary>Returns the first problem (and logs it), or null.</summary>
    public static VerifierError? Check(Instruction[] insns, IReadOnlyList<MapSpec> maps, VerifierLog log)
    {
        // bpf_check() runs add_subprog_and_kfunc and check_subprogs first ("last insn is not an exit or jmp", jumps
        // out of a function); the control-flow pass repeats them later, silently once they passed
        if (CfgCheck.CheckSubprogs(insns, log) is { } subprogError)
        {
            return subprogError;
        }

        VerifierError Fail(int insn, RejectKind kind, string msg)
        {
            log.WriteLine(msg);
            return new VerifierError(insn, kind, msg);
        }

        for (int i = 0; i < insns.Length; i++)
        {
            var insn = insns[i];
            // the kernel's order per instruction: LDX reserved fields, the ld_imm64 checks, then the opcode table
            if (insn.Class == OpClass.Ldx && (insn.Mode is not (MemMode.Mem or MemMode.MemSx) || insn.Imm != 0))
            {
                return Fail(i, RejectKind.Invalid, "BPF_LDX uses reserved fields");
            }

            if (!insn.IsLdImm64)
            {
                // callx (0x8d) is in our table for the ISA; Linux's instruction table does not have it
                // BPF_STX | BPF_ATOMIC with B and H sizes (load-acquire/store-release) are in Linux's table too
                bool atomicBh = insn.Opcode is 0xd3 or 0xcb;
                // BPF_JMP | BPF_JCOND (may_goto) is in Linux's table; the main pass refuses it (Msg.MayGotoUnsupported)
                bool mayGoto = insn.Opcode == 0xe5;
                if ((!OpcodeTable.Get(insn.Opcode).IsValid && !atomicBh && !mayGoto) || insn.Opcode == 0x8d)
                {
                    return Fail(i, RejectKind.Invalid, $"unknown opcode {insn.Opcode:x2}");
                }

                continue;
            }

            if (i == insns.Length - 1 || insns[i + 1].Opcode != 0 || insns[i + 1].DstReg != 0 || insns[i + 1].SrcReg != 0 ||
                insns[i + 1].Offset != 0)
            {
                return Fail(i, RejectKind.Invalid, "invalid bpf_ld_imm64 insn");
            }

            int src = insn.SrcReg;
            if (src is 0 or 4)
            {
                i++;
                continue;
            }

            // kernel: resolve_pseudo_ldimm64(): MAP_VALUE/MAP_IDX_VALUE carry an offset in the second slot's imm;
            // MAP_FD/MAP_IDX must leave it 0
            if ((src is not (1 or 2 or 5 or 6) && src != 3) || (src is 1 or 5 && insns[i + 1].Imm != 0))
            {
                return Fail(i, RejectKind.Invalid, "unrecognized bpf_ld_imm64 insn");
            }

            // src 5/6 index the fd_array: our map list plays that part, so without maps there is no fd_array
            if (src is 5 or 6 && maps.Count == 0)
            {
                return Fail(i, RejectKind.Invalid, "fd_idx without fd_array is invalid");
            }

            if (src is 1 or 2 or 5 or 6)
            {
                if ((uint)insn.Imm >= (uint)maps.Count)
                {
                    return Fail(i, RejectKind.Invalid, $"fd {insn.Imm} is not pointing to valid bpf_map");
                }

                if (src is 2 or 6)
                {
                    var map = maps[insn.Imm];
                    uint off = (uint)insns[i + 1].Imm;
                    if (off >= 1u << 29)
                    {
                        return Fail(i, RejectKind.Invalid, $"direct value offset of {off} is not allowed");
                    }

                    if (map.Type != MapType.Array)
                    {
                        return Fail(i, RejectKind.Invalid, "no direct value access support for this map type");
                    }

                    // kernel: array_map_direct_value_addr(): -EOPNOTSUPP for more than one entry, -EINVAL past the value
                    if (map.MaxEntries != 1 || off >= map.ValueSize)
                    {
                        var kind = map.MaxEntries != 1 ? RejectKind.NotSupported : RejectKind.Invalid;
                        return Fail(i, kind, $"invalid access to map value pointer, value_size={map.ValueSize} off={off}");
                    }
                }
            }

            i++;
        }

        return null;
    }
}
