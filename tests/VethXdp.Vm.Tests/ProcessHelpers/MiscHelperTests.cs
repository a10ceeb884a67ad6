using VethXdp.Vm.Helpers;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Tests.Runtime;

namespace VethXdp.Vm.Tests.CurrentTask;

/// <summary>BTF printing, per-CPU pointers, branch records, kptrs and user ring buffers: the kernel's argument checks
/// and its answers where the object is absent (as Linux 6.18 gave them to an XDP program).</summary>
public class MiscHelperTests
{
    // struct btf_ptr at fp-16 { ptr = r10, type_id = TYPE, flags = 0 }; bpf_snprintf_btf(fp-48, 8, fp-16, SIZE, FLAGS).
    private static string SnprintfBtf(uint typeId, int size = 16, ulong flags = 0) => $"""
        *(u64 *)(r10 -16) = r10
        *(u32 *)(r10 -8) = {typeId}
        *(u32 *)(r10 -4) = 0
        r1 = r10
        r1 += -48
        r2 = 8
        r3 = r10
        r3 += -16
        r4 = {size}
        r5 = {flags}
        call bpf_snprintf_btf
        exit
        """;

    [Theory]
    [InlineData(123u, 16, 0UL, -Errno.ENOENT)]      // no kernel BTF: no such type (Linux: -ENOENT for an unknown id)
    [InlineData(123u, 16, 1UL << 10, -Errno.EINVAL)] // unknown flag (Linux: -EINVAL)
    [InlineData(123u, 8, 0UL, -Errno.EINVAL)]       // btf_ptr_size 8 (Linux: -EINVAL)
    [InlineData(0u, 16, 0UL, -Errno.EINVAL)]        // type id 0 (Linux: -EINVAL)
    [InlineData(0x7fffffffu, 16, 0xfUL, -Errno.ENOENT)]
    public void SnprintfBtf_Arguments_KernelErrno(uint typeId, int size, ulong flags, int expected) =>
        Assert.Equal(Rt.Err(-expected), Proc.Run(SnprintfBtf(typeId, size, flags)).Retval);

    [Fact]
    public void PerCpuPtr_CpuPastPossible_Null() =>
        Assert.Equal(0u, Proc.Run("r1 = r10\nr2 = 2\ncall bpf_per_cpu_ptr\nexit").Retval);

    [Theory]
    [InlineData("r1 = r10\nr2 = 0\ncall bpf_per_cpu_ptr")]
    [InlineData("r1 = r10\ncall bpf_this_cpu_ptr")]
    public void PerCpuPtr_NoPerCpuKsyms_Faults(string call)
    {
        var o = Proc.Run(call + "\nexit");
        Assert.NotNull(o.Error);
        Assert.Contains("expected=percpu_ptr_", o.Error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(48, 0UL, -Errno.ENOENT)]
    [InlineData(48, 1UL, -Errno.EINVAL)]
    [InlineData(0, 0UL, -Errno.ENOENT)]
    public void BranchSnapshot_NoLbr_KernelErrnoBufferUntouched(int size, ulong flags, int expected)
    {
        var o = Proc.Run($"""
            *(u64 *)(r10 -48) = 77
            r1 = r10
            r1 += -48
            r2 = {size}
            r3 = {flags}
            call bpf_get_branch_snapshot
            r1 = *(u64 *)(r10 -48)
            if r1 != 77 goto bad
            exit
            bad:
            r0 = 999
            exit
            """);
        Assert.Equal(Rt.Err(-expected), o.Retval);
    }

    [Fact]
    public void KptrXchg_MapValueField_ExchangesAndReturnsOld()
    {
        using var obj = Proc.Load(Proc.OutInR7 + """
            r1 = r7
            r2 = 0
            call bpf_kptr_xchg
            *(u64 *)(r7 +8) = r0
            r1 = r7
            r2 = 0x1234
            call bpf_kptr_xchg
            *(u64 *)(r7 +16) = r0
            r1 = r7
            r2 = 0
            call bpf_kptr_xchg
            *(u64 *)(r7 +24) = r0
            """ + Proc.Done, Proc.Out());
        using var runner = new XdpRunner(obj);
        Assert.Equal(Rt.Pass, runner.Run(Rt.Frame()).Retval);
        var v = Proc.ReadOut(obj);
        Assert.Equal([0L, 0L, 0L, 0x1234L], Enumerable.Range(0, 4).Select(i => Proc.U64(v, i)).ToArray());
    }

    [Fact]
    public void UserRingbufDrain_HashMap_FaultsWithVerifierMessage()
    {
        var o = Proc.Run("r1 = map[idx:0]\nr2 = 0\nr3 = 0\nr4 = 0\ncall bpf_user_ringbuf_drain\nexit", null,
            Rt.Map("h", MapType.Hash, 4, 4, 4));
        Assert.NotNull(o.Error);
        Assert.Contains("cannot pass map_type 1 into func bpf_user_ringbuf_drain#209", o.Error.Message, StringComparison.Ordinal);
    }
}
