using VethXdp.Vm.Elf;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;

namespace VethXdp.Vm.Tests.Elf;

/// <summary>corpus/xdp/xdp_kptr: the `__kptr` / `__percpu_kptr` fields of map values found from BTF, the allocation
/// kfuncs resolved by name, and the BPF_CORE_TYPE_ID_LOCAL relocation bpf_obj_new() emits.</summary>
public class KptrElfTests
{
    public static TheoryData<string> Cpus() => new() { "v2", "v3", "v4" };

    private static BpfObject Load(string cpu)
    {
        string path = Path.Combine(TestPaths.CorpusDir, "xdp", $"xdp_kptr.{cpu}.o");
        Skip.IfNot(File.Exists(path), $"{path} is not built");
        return ElfObjectReader.Load(path);
    }

    [SkippableTheory]
    [MemberData(nameof(Cpus))]
    public void Load_KptrValues_FieldsFromBtf(string cpu)
    {
        var obj = Load(cpu);
        var flows = Assert.Single(obj.Maps.Single(m => m.Name == "flows").KptrFields);
        Assert.Equal((8, false, "kptr_flow_obj", 24u), (flows.Offset, flows.Percpu, flows.TypeName, flows.Size));
        var pcpu = Assert.Single(obj.Maps.Single(m => m.Name == "cpu_stats").KptrFields);
        Assert.Equal((8, true, "kptr_cpu_obj", 16u), (pcpu.Offset, pcpu.Percpu, pcpu.TypeName, pcpu.Size));
        Assert.Empty(obj.Maps.Single(m => m.Name == "results").KptrFields);
        Assert.NotEqual(flows.TypeId, pcpu.TypeId);
    }

    [SkippableTheory]
    [MemberData(nameof(Cpus))]
    public void Load_ObjNew_TypeIdLocalRelocatedIntoR1(string cpu)
    {
        var obj = Load(cpu);
        var prog = obj.Programs.Single(p => p.Name == "xdp_kptr");
        var names = prog.Kfuncs.Select(k => k.Name).Distinct().Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["bpf_obj_drop_impl", "bpf_obj_new_impl", "bpf_percpu_obj_drop_impl", "bpf_percpu_obj_new_impl"], names);

        // Before each *_obj_new_impl call, r1 gets the local type id of the type the matching kptr field holds.
        var program = prog.ToProgram();
        foreach (var call in prog.Kfuncs.Where(k => k.Id is KfuncId.ObjNewImpl or KfuncId.PercpuObjNewImpl))
        {
            bool percpu = call.Id == KfuncId.PercpuObjNewImpl;
            uint expected = obj.Maps.SelectMany(m => m.KptrFields).Single(f => f.Percpu == percpu).TypeId;
            ulong? r1 = null;
            for (int pc = call.Slot - 1; pc >= 0 && r1 is null; pc--)
            {
                var insn = program[pc];
                if (pc > 0 && program[pc - 1].IsLdImm64 && program[pc - 1].Dst == Register.R1)
                {
                    r1 = program.Imm64(pc - 1);
                }
                else if (insn.Opcode == Op.Mov64Imm && insn.Dst == Register.R1)
                {
                    r1 = (ulong)insn.Imm;
                }
            }

            Assert.Equal(expected, r1);
        }
    }
}
