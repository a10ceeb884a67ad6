using VethXdp.Kernel;
using VethXdp.Vm.Btf;
using VethXdp.Vm.Elf;

namespace VethXdp.Kernel.Tests;

public class KernelBtfTests
{
    private static BpfObject Corpus(string name) => ElfObjectReader.Load(Path.Combine(TestPaths.CorpusDir, "xdp", name));

    [Theory]
    [InlineData("xdp_flow_counter.v4.o")]
    [InlineData("xdp_global_data.v4.o")]
    [InlineData("xdp_dynptr.v4.o")]
    public void Encode_CorpusBtf_ParsesBackWithTheSameTypes(string objectName)
    {
        var btf = Corpus(objectName).Btf;
        Assert.NotNull(btf);
        var back = BtfSpec.Parse(KernelBtf.Encode(btf));
        Assert.True(back.Count >= btf.Count);
        for (uint id = 1; id < (uint)btf.Count; id++)
        {
            Assert.Equal(btf[id].Name, back[id].Name);
            Assert.Equal(btf[id].Kind, back[id].Kind);
        }
    }

    [Fact]
    public void Encode_Ksyms_BecomeAllocatedDummiesAndGlobalFunctions()
    {
        var btf = Corpus("xdp_dynptr.v4.o").Btf!;
        var back = BtfSpec.Parse(KernelBtf.Encode(btf));
        var ksyms = Assert.IsType<BtfDatasec>(back.FindByName(".ksyms", BtfKind.Datasec));
        Assert.NotEmpty(ksyms.Vars);
        Assert.Equal((uint)ksyms.Vars.Count * 4, ksyms.Size);
        foreach (var v in ksyms.Vars)
        {
            var var = Assert.IsType<BtfVar>(back[v.TypeId]);
            Assert.Equal(BtfVarLinkage.GlobalAllocated, var.Linkage);
            Assert.Equal(4u, v.Size);
        }

        Assert.DoesNotContain(back.Types.OfType<BtfFunc>(), f => f.Linkage == BtfFuncLinkage.Extern);
        var from = Assert.IsType<BtfFunc>(back.FindByName("bpf_dynptr_from_xdp", BtfKind.Func));
        Assert.All(((BtfFuncProto)back[from.TypeId]).Parameters, p => Assert.NotEqual(string.Empty, p.Name));
    }

    [SkippableFact]
    public void BtfLoad_CorpusObjects_AreAcceptedByTheKernel()
    {
        KernelSkip.IfNotPermitted();
        foreach (string name in new[] { "xdp_flow_counter.v4.o", "xdp_global_data.v4.o", "xdp_dynptr.v4.o", "xdp_loops.v2.o" })
        {
            using var fd = BpfSyscall.BtfLoad(KernelBtf.Encode(Corpus(name).Btf!));
            Assert.False(fd.IsInvalid, name);
        }
    }

    [SkippableFact]
    public void BtfLoad_Garbage_IsRefusedWithTheKernelsLog()
    {
        KernelSkip.IfNotPermitted();
        var e = Assert.Throws<KernelBpfException>(() => BpfSyscall.BtfLoad(new byte[32]));
        Assert.Equal(BpfCommand.BtfLoad, e.Command);
        Assert.Equal("EINVAL", e.ErrnoName);
        Assert.Contains("magic", e.VerifierLog, StringComparison.OrdinalIgnoreCase);
    }

    [SkippableFact]
    public void VmlinuxFuncId_XdpKfunc_IsFoundInTheRunningKernel()
    {
        KernelSkip.IfNotPermitted();
        Skip.If(KernelBtf.Vmlinux is null, "/sys/kernel/btf/vmlinux is not readable");
        Assert.True(KernelBtf.VmlinuxFuncId("bpf_dynptr_from_xdp") > 0);
        Assert.Null(KernelBtf.VmlinuxFuncId("no_such_kernel_function_anywhere"));
    }

    [SkippableFact]
    public void Load_SpinLockObject_TakesTheMapValueTypeFromBtf()
    {
        KernelSkip.IfNotPermitted();
        var obj = Corpus("xdp_flow_counter.v4.o");
        using var loaded = KernelObject.Load(obj);
        Assert.True(loaded.HasBtf, loaded.BtfError);
        var r = loaded.TestRun(obj.Programs[0].Name, CorpusKernelTests.UdpFrame());
        Assert.InRange(r.Retval, 0u, 4u);
        Assert.NotEmpty(loaded.DumpMap("flows"));
    }
}
