using VethXdp.Verifier.Log;
using VethXdp.Vm.Elf;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Tests.Kptr;

/// <summary>Objects the program allocates and keeps in map values (kptrs): corpus/xdp/xdp_kptr is accepted as Linux
/// 6.18 accepts it, with the kernel's register types in the log. The rejected variants are the kernel-confirmed
/// <c>corpus/verifier/objects/kptr_*.expect</c> (checked by <c>GlobalFunctionTests</c>, which runs every
/// <c>.expect</c>, and by the kernel test).</summary>
public sealed class KptrVerifierTests
{
    private static string ObjectsDir => Path.Combine(TestPaths.CorpusDir, "verifier", "objects");

    private static (ProgramSpec Spec, BpfObject Obj) Load(string path, string program)
    {
        var obj = ElfObjectReader.Load(path);
        return (obj.Programs.Single(p => p.Name == program), obj);
    }

    private static VerificationResult Verify(ProgramSpec spec, BpfObject obj, VerifierLogLevel level = VerifierLogLevel.Level1) =>
        BpfVerifier.Verify(spec, obj.Maps, new VerifierOptions { LogLevel = level });

    [Theory]
    [InlineData("v2")]
    [InlineData("v3")]
    [InlineData("v4")]
    public void Verify_XdpKptr_Accepted(string build)
    {
        var (spec, obj) = Load(Path.Combine(TestPaths.CorpusDir, "xdp", $"xdp_kptr.{build}.o"), "xdp_kptr");
        var r = Verify(spec, obj);
        Assert.True(r.Accepted, r.Log);
        // Linux processes 1344 / 1157 / 1059; the rest is pruning (see docs/differences.md), never an unbounded walk
        Assert.InRange(r.Stats.InsnProcessed, 1000, 2000);
    }

    [Fact]
    public void Verify_XdpKptrV3_LogHasKernelRegisterTypes()
    {
        // lines of Linux 6.18's level-2 log of xdp_kptr.v3.o (bpftool prog load -d), whole
        var (spec, obj) = Load(Path.Combine(TestPaths.CorpusDir, "xdp", "xdp_kptr.v3.o"), "xdp_kptr");
        var r = Verify(spec, obj, VerifierLogLevel.Level2);
        Assert.True(r.Accepted, r.Error?.Message);
        string[] lines =
        [
            "48: (85) call bpf_kptr_xchg#194       ; frame1: R0=ptr_or_null_kptr_flow_obj(id=5,ref_obj_id=5) refs=5",
            "54: frame1: R0=ptr_or_null_kptr_flow_obj(id=7,ref_obj_id=7) refs=7",
            "54: (15) if r0 == 0x0 goto pc+63      ; frame1: R0=ptr_kptr_flow_obj(ref_obj_id=7) refs=7",
            "58: (63) *(u32 *)(r0 +16) = r8        ; frame1: R0=ptr_kptr_flow_obj(ref_obj_id=7) R8=scalar(id=1,smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) refs=7",
            "133: (79) r7 = *(u64 *)(r9 +8)        ; frame1: R7=percpu_rcu_ptr_or_null_kptr_cpu_obj(id=12) R9=map_value(map=cpu_stats,ks=4,vs=16)",
            "139: frame1: R0=percpu_ptr_or_null_kptr_cpu_obj(id=14,ref_obj_id=14) refs=14",
            "142: (85) call bpf_kptr_xchg#194      ; frame1: R0=percpu_ptr_or_null_kptr_cpu_obj(id=16,ref_obj_id=16) refs=16",
            "148: (15) if r7 == 0x0 goto pc+111    ; frame1: R7=percpu_rcu_ptr_kptr_cpu_obj()",
            "153: (85) call bpf_per_cpu_ptr#153    ; frame1: R0=rcu_ptr_kptr_cpu_obj()",
            "157: (7b) *(u64 *)(r0 +8) = r1        ; frame1: R0=rcu_ptr_kptr_cpu_obj() R1=0",
        ];
        foreach (string line in lines)
        {
            Assert.Contains("\n" + line + "\n", r.Log, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Verify_XdpKptrV3_KfuncCallsNamedAsLinux()
    {
        // Linux 6.18.44 (bpftool prog load -d): "53: (85) call bpf_obj_new_impl#65205", "89: (85) call
        // bpf_obj_drop_impl#65191": the kfunc's name, then its BTF id in this kernel's vmlinux, where we print our id
        var (spec, obj) = Load(Path.Combine(TestPaths.CorpusDir, "xdp", "xdp_kptr.v3.o"), "xdp_kptr");
        var r = Verify(spec, obj, VerifierLogLevel.Level2);

        Assert.Contains("\n53: (85) call bpf_obj_new_impl#7\n", r.Log, StringComparison.Ordinal);
        Assert.Contains("\n89: (85) call bpf_obj_drop_impl#8\n", r.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("kernel-function", r.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_Roundtrip_AcceptedWithKernelCount()
    {
        // obj_new, NULL check, stores, kptr_xchg into the map, drop of the old object: Linux processes 33
        var (spec, obj) = Load(Path.Combine(ObjectsDir, "kptr_roundtrip.o"), "kptr_roundtrip");
        var r = Verify(spec, obj, VerifierLogLevel.Level2);
        Assert.True(r.Accepted, r.Log);
        Assert.Equal(33, r.Stats.InsnProcessed);
        Assert.Contains("R0=ptr_or_null_kptr_obj(id=", r.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_LeakedObject_ReportsReferenceAndAllocInsn()
    {
        var (spec, obj) = Load(Path.Combine(ObjectsDir, "kptr_leak.o"), "kptr_leak");
        var r = Verify(spec, obj);
        Assert.False(r.Accepted);
        Assert.Equal(RejectKind.Invalid, r.Error!.Kind);
        Assert.EndsWith("Unreleased reference id=2 alloc_insn=3\nBPF_EXIT instruction in main prog would lead to reference leak",
            r.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ObjectWithoutProgramBtf_IsRefused()
    {
        // bpf_obj_new names its type by an id of the program's BTF: without func_info there is none
        var (spec, obj) = Load(Path.Combine(ObjectsDir, "kptr_roundtrip.o"), "kptr_roundtrip");
        var noBtf = spec with { Functions = [.. spec.Functions.Select(f => new FunctionInfo(f.StartSlot, f.Name, f.IsGlobal))] };
        var r = Verify(noBtf, obj);
        Assert.False(r.Accepted);
        Assert.Equal("bpf_obj_new/bpf_percpu_obj_new requires prog BTF", r.Error!.Message);
    }

    [Fact]
    public void Verify_XchgOfUnownedPointer_RefusedWithKernelMessage()
    {
        // Linux 6.18 refuses it with -EFAULT (check_reg_type's default case, a verifier_bug())
        string path = Path.Combine(TestPaths.RepoRoot, "tests", "VethXdp.Verifier.Tests", "Kptr", "kptr_xchg_unowned.o");
        var (spec, obj) = Load(path, "kptr_xchg_unowned");
        var r = Verify(spec, obj);
        Assert.False(r.Accepted);
        Assert.Equal("verifier bug: invalid PTR_TO_BTF_ID register for type match", r.Error!.Message);
        Assert.Equal("EFAULT", r.Error.ErrnoName);
        Assert.Equal(12, r.Stats.InsnProcessed);
    }
}
