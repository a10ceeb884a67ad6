using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;

namespace VethXdp.Vm.Runtime;

/// <summary>Turns a linked program into one an engine runs, as the kernel does at BPF_PROG_LOAD before and after the
/// verifier: map references become the maps' addresses, and every call must name a helper or kfunc that exists.</summary>
/// <remarks>kernel: resolve_pseudo_ldimm64() and the helper checks of check_helper_call() / fixup_bpf_calls().</remarks>
public static class ProgramPreparer
{
    /// <summary>Prepares <paramref name="spec"/> against <paramref name="maps"/> and <paramref name="helpers"/>.</summary>
    /// <exception cref="RuntimeLoadException">An instruction refers to a map, helper or kfunc that does not exist, or to
    /// map memory programs may not address directly; the message names the program and the instruction.</exception>
    public static ExecutableProgram Prepare(ProgramSpec spec, MapSet maps, HelperTable helpers) =>
        Prepare(spec, maps, helpers, deviceBound: false);

    /// <summary>Prepares <paramref name="spec"/>; <paramref name="deviceBound"/> says whether it is loaded bound to a
    /// device (prog_ifindex with BPF_F_XDP_DEV_BOUND_ONLY), which the XDP metadata kfuncs need.</summary>
    /// <exception cref="RuntimeLoadException">As <see cref="Prepare(ProgramSpec, MapSet, HelperTable)"/>.</exception>
    public static ExecutableProgram Prepare(ProgramSpec spec, MapSet maps, HelperTable helpers, bool deviceBound)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(maps);
        ArgumentNullException.ThrowIfNull(helpers);
        var slots = spec.Slots.ToArray();
        for (int pc = 0; pc < slots.Length; pc++)
        {
            var insn = slots[pc];
            if (insn.Opcode == Op.LdDw && pc + 1 < slots.Length)
            {
                ResolveLoad(spec.Name, slots, pc, maps);
                pc++;
                continue;
            }

            if (insn.Opcode == Op.Call)
            {
                CheckCall(spec.Name, pc, insn, helpers, deviceBound);
            }
        }

        BpfProgram program;
        try
        {
            program = BpfProgram.Create(slots, spec.Name);
        }
        catch (BpfFormatException e)
        {
            throw new RuntimeLoadException(spec.Name, e.Pc, e.Reason, e);
        }

        return new ExecutableProgram(program, spec.Name, spec);
    }

    /// <summary>Checks that a call names a helper or kfunc in <paramref name="helpers"/> that the program may call;
    /// throws otherwise.</summary>
    public static void CheckCall(string program, int pc, Instruction insn, HelperTable helpers, bool deviceBound = false)
    {
        ArgumentNullException.ThrowIfNull(helpers);
        switch ((CallKind)insn.SrcReg)
        {
            case CallKind.Helper:
            {
                int id = insn.Imm;
                string? name = HelperNames.Name(id);
                if (helpers.Contains(id))
                {
                    return;
                }

                if (name is null || id == 0)
                {
                    throw new RuntimeLoadException(program, pc, $"unknown helper id {id}");
                }

                throw new RuntimeLoadException(program, pc, XdpHelperSet.Contains(id)
                    ? $"helper {name}#{id} is not supported yet"
                    : $"program of this type cannot use helper {name}#{id}");
            }

            case CallKind.Kfunc:
                if (!helpers.TryGetKfunc(insn.Imm, out _))
                {
                    throw new RuntimeLoadException(program, pc, $"kfunc call (id {insn.Imm}) is not supported");
                }

                // The XDP metadata kfuncs load only into a program bound to a device.
                if (KfuncHelpers.CheckLoad((KfuncId)insn.Imm, deviceBound) is { } refusal)
                {
                    throw new RuntimeLoadException(program, pc, $"{refusal} ({helpers.GetKfuncName(insn.Imm)})");
                }

                return;
            default:
                return;
        }
    }

    // lddw with src 1/5 (a map) -> the map's handle; src 2/6 (a map value) -> the value's address + offset;
    // src 4 (a function) stays for the engine; src 3 (a kernel variable) is refused.
    private static void ResolveLoad(string program, Instruction[] slots, int pc, MapSet maps)
    {
        var insn = slots[pc];
        var src = (PseudoSrc)insn.SrcReg;
        if (src is PseudoSrc.Imm64 or PseudoSrc.Func)
        {
            return;
        }

        if (src == PseudoSrc.BtfId)
        {
            throw new RuntimeLoadException(program, pc, "references to kernel variables (ld_imm64 src=3, __ksym) are not supported");
        }

        int index = insn.Imm;
        if ((uint)index >= (uint)maps.Count)
        {
            throw new RuntimeLoadException(program, pc, $"map index {index} is out of range (the object has {maps.Count} maps)");
        }

        var map = maps[index];
        ulong address;
        if (src is PseudoSrc.MapFd or PseudoSrc.MapIdx)
        {
            address = map.Handle;
        }
        else
        {
            // kernel: map->ops->map_direct_value_addr, which only arrays have: one element, offset inside the value.
            uint offset = (uint)slots[pc + 1].Imm;
            if (map is not ArrayMap array || map.Type != MapType.Array)
            {
                throw new RuntimeLoadException(program, pc, $"no direct value access support for this map type (map \"{map.Name}\")");
            }

            if (map.Spec.MaxEntries != 1 || offset >= map.Spec.ValueSize)
            {
                throw new RuntimeLoadException(program, pc, $"invalid access to map value pointer, value_size={map.Spec.ValueSize} off={offset}");
            }

            address = array.ValueAddress(0) + offset;
        }

        slots[pc] = new Instruction(Op.LdDw, insn.Dst, 0, insn.Offset, (int)(uint)address);
        slots[pc + 1] = new Instruction(0, 0, 0, 0, (int)(uint)(address >> 32));
    }
}
