using VethXdp.Verifier.Helpers;
using VethXdp.Verifier.State;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Tests.Helpers;

/// <summary>The helper prototypes and per-program-type helper sets against Linux 6.18's sources
/// (net/core/filter.c, kernel/bpf/helpers.c, kernel/bpf/ringbuf.c, kernel/trace/bpf_trace.c, ...).</summary>
public class HelperProtosTests
{
    [Fact]
    public void AvailableIds_Xdp_EqualsTheVmsXdpHelperSet()
    {
        int[] ours = HelperProtos.AvailableIds(ProgramType.Xdp);
        int[] vm = XdpHelperSet.Entries.Select(e => e.Id).ToArray();

        Assert.Equal(vm, ours);
    }

    [Fact]
    public void GetProto_EveryAvailableHelper_HasFiveArgsTheRightIdAndName()
    {
        foreach (var type in new[] { ProgramType.Xdp, ProgramType.SocketFilter, ProgramType.SchedCls })
        {
            foreach (int id in HelperProtos.AvailableIds(type))
            {
                var p = HelperProtos.GetProto(type, id)!;
                Assert.Equal(5, p.Args.Length);
                Assert.Equal(id, p.Id);
                Assert.Equal(HelperNames.Name(id), p.LogName);
                Assert.EndsWith("_proto", p.KernelName, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void AvailableIds_SchedAct_SameAsSchedCls()
    {
        Assert.Equal(HelperProtos.AvailableIds(ProgramType.SchedCls), HelperProtos.AvailableIds(ProgramType.SchedAct));
    }

    [Theory]
    [InlineData(ProgramType.SocketFilter, 26, true)]    // skb_load_bytes
    [InlineData(ProgramType.SocketFilter, 68, true)]    // skb_load_bytes_relative
    [InlineData(ProgramType.SocketFilter, 46, true)]    // get_socket_cookie
    [InlineData(ProgramType.SocketFilter, 47, true)]    // get_socket_uid
    [InlineData(ProgramType.SocketFilter, 1, true)]     // map_lookup_elem (base)
    [InlineData(ProgramType.SocketFilter, 137, true)]   // skc_to_tcp_sock (sk base)
    [InlineData(ProgramType.SocketFilter, 23, false)]   // redirect
    [InlineData(ProgramType.SocketFilter, 9, false)]    // skb_store_bytes
    [InlineData(ProgramType.SocketFilter, 84, false)]   // sk_lookup_tcp
    [InlineData(ProgramType.SocketFilter, 44, false)]   // xdp_adjust_head
    [InlineData(ProgramType.SchedCls, 9, true)]
    [InlineData(ProgramType.SchedCls, 10, true)]
    [InlineData(ProgramType.SchedCls, 11, true)]
    [InlineData(ProgramType.SchedCls, 13, true)]
    [InlineData(ProgramType.SchedCls, 18, true)]
    [InlineData(ProgramType.SchedCls, 19, true)]
    [InlineData(ProgramType.SchedCls, 20, true)]
    [InlineData(ProgramType.SchedCls, 33, true)]
    [InlineData(ProgramType.SchedCls, 34, true)]
    [InlineData(ProgramType.SchedCls, 38, true)]
    [InlineData(ProgramType.SchedCls, 40, true)]
    [InlineData(ProgramType.SchedCls, 43, true)]
    [InlineData(ProgramType.SchedCls, 48, true)]
    [InlineData(ProgramType.SchedCls, 69, true)]
    [InlineData(ProgramType.SchedCls, 124, true)]
    [InlineData(ProgramType.SchedCls, 51, false)]       // redirect_map is XDP's
    [InlineData(ProgramType.SchedCls, 44, false)]
    [InlineData(ProgramType.Xdp, 26, false)]
    [InlineData(ProgramType.Xdp, 9, false)]
    [InlineData(ProgramType.Xdp, 4, false)]             // probe_read: tracing only
    public void Lookup_KnownHelper_AvailabilityAsTheKernelsFuncProto(ProgramType type, int id, bool available)
    {
        var a = HelperProtos.Lookup(type, 0, id, out var proto);

        Assert.Equal(available ? HelperAvailability.Available : HelperAvailability.NotForThisProgramType, a);
        Assert.Equal(available, proto is not null);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(212)]
    [InlineData(100000)]
    public void Lookup_IdOutsideTheHelperRange_UnknownWithTheKernelsMessage(int id)
    {
        var a = HelperProtos.Lookup(ProgramType.Xdp, 0, id, out var proto);

        Assert.Equal(HelperAvailability.Unknown, a);
        Assert.Null(proto);
        Assert.Equal($"invalid func unknown#{id}", HelperProtos.Message(a, id));
    }

    [Fact]
    public void Message_RedirectFromSocketFilter_KernelWording()
    {
        var a = HelperProtos.Lookup(ProgramType.SocketFilter, 0, 23, out _);

        Assert.Equal("program of this type cannot use helper bpf_redirect#23", HelperProtos.Message(a, 23));
    }

    [Fact]
    public void Lookup_UnmodelledProgramType_SaysSo()
    {
        Assert.Equal(HelperAvailability.ProgramTypeNotModelled, HelperProtos.Lookup(ProgramType.Kprobe, 0, 1, out var p));
        Assert.Null(p);
    }

    [Theory]
    [InlineData(ProgramType.Xdp, 25, "bpf_xdp_event_output_proto")]
    [InlineData(ProgramType.SchedCls, 25, "bpf_skb_event_output_proto")]
    [InlineData(ProgramType.SocketFilter, 25, "bpf_skb_event_output_proto")]
    [InlineData(ProgramType.Xdp, 23, "bpf_xdp_redirect_proto")]
    [InlineData(ProgramType.SchedCls, 23, "bpf_redirect_proto")]
    [InlineData(ProgramType.Xdp, 84, "bpf_xdp_sk_lookup_tcp_proto")]
    [InlineData(ProgramType.SchedCls, 84, "bpf_tc_sk_lookup_tcp_proto")]
    [InlineData(ProgramType.Xdp, 69, "bpf_xdp_fib_lookup_proto")]
    [InlineData(ProgramType.SchedCls, 69, "bpf_skb_fib_lookup_proto")]
    [InlineData(ProgramType.Xdp, 163, "bpf_xdp_check_mtu_proto")]
    [InlineData(ProgramType.SchedAct, 163, "bpf_skb_check_mtu_proto")]
    [InlineData(ProgramType.Xdp, 17, "bpf_get_cgroup_classid_curr_proto")]
    [InlineData(ProgramType.SchedCls, 17, "bpf_get_cgroup_classid_proto")]
    [InlineData(ProgramType.Xdp, 8, "bpf_get_smp_processor_id_proto")]
    [InlineData(ProgramType.SocketFilter, 8, "bpf_get_raw_smp_processor_id_proto")]
    public void GetProto_HelperWithPerTypeVariants_TheTypesVariant(ProgramType type, int id, string kernelName)
    {
        Assert.Equal(kernelName, HelperProtos.GetProto(type, id)!.KernelName);
    }

    // Expectations written from the 6.18 sources: ret; args in the kernel's spelling; then gpl/pkt flags.
    [Theory]
    [InlineData(ProgramType.Xdp, 1, "RET_PTR_TO_MAP_VALUE | PTR_MAYBE_NULL", "ARG_CONST_MAP_PTR; ARG_PTR_TO_MAP_KEY", false, true)]
    [InlineData(ProgramType.Xdp, 2, "RET_INTEGER", "ARG_CONST_MAP_PTR; ARG_PTR_TO_MAP_KEY; ARG_PTR_TO_MAP_VALUE; ARG_ANYTHING", false, true)]
    [InlineData(ProgramType.Xdp, 88, "RET_INTEGER", "ARG_CONST_MAP_PTR; ARG_PTR_TO_MAP_VALUE | MEM_UNINIT | MEM_WRITE", false, false)]
    [InlineData(ProgramType.Xdp, 12, "RET_VOID", "ARG_PTR_TO_CTX; ARG_CONST_MAP_PTR; ARG_ANYTHING", false, false)]
    [InlineData(ProgramType.Xdp, 6, "RET_INTEGER", "ARG_PTR_TO_MEM | MEM_RDONLY; ARG_CONST_SIZE", true, false)]
    [InlineData(ProgramType.Xdp, 16, "RET_INTEGER", "ARG_PTR_TO_MEM | MEM_UNINIT | MEM_WRITE; ARG_CONST_SIZE", false, false)]
    [InlineData(ProgramType.Xdp, 23, "RET_INTEGER", "ARG_ANYTHING; ARG_ANYTHING", false, false)]
    [InlineData(ProgramType.Xdp, 25, "RET_INTEGER", "ARG_PTR_TO_CTX; ARG_CONST_MAP_PTR; ARG_ANYTHING; ARG_PTR_TO_MEM | MEM_RDONLY; ARG_CONST_SIZE_OR_ZERO", true, false)]
    [InlineData(ProgramType.Xdp, 28, "RET_INTEGER", "ARG_PTR_TO_MEM | PTR_MAYBE_NULL | MEM_RDONLY; ARG_CONST_SIZE_OR_ZERO; ARG_PTR_TO_MEM | PTR_MAYBE_NULL | MEM_RDONLY; ARG_CONST_SIZE_OR_ZERO; ARG_ANYTHING", false, true)]
    [InlineData(ProgramType.Xdp, 44, "RET_INTEGER", "ARG_PTR_TO_CTX; ARG_ANYTHING", false, false)]
    [InlineData(ProgramType.Xdp, 51, "RET_INTEGER", "ARG_CONST_MAP_PTR; ARG_ANYTHING; ARG_ANYTHING", false, false)]
    [InlineData(ProgramType.Xdp, 69, "RET_INTEGER", "ARG_PTR_TO_CTX; ARG_PTR_TO_MEM | MEM_WRITE; ARG_CONST_SIZE; ARG_ANYTHING", true, false)]
    [InlineData(ProgramType.Xdp, 84, "RET_PTR_TO_SOCKET | PTR_MAYBE_NULL", "ARG_PTR_TO_CTX; ARG_PTR_TO_MEM | MEM_RDONLY; ARG_CONST_SIZE; ARG_ANYTHING; ARG_ANYTHING", false, true)]
    [InlineData(ProgramType.Xdp, 99, "RET_PTR_TO_SOCK_COMMON | PTR_MAYBE_NULL", "ARG_PTR_TO_CTX; ARG_PTR_TO_MEM | MEM_RDONLY; ARG_CONST_SIZE; ARG_ANYTHING; ARG_ANYTHING", false, true)]
    [InlineData(ProgramType.Xdp, 86, "RET_INTEGER", "ARG_PTR_TO_BTF_ID_SOCK_COMMON | OBJ_RELEASE", false, false)]
    [InlineData(ProgramType.Xdp, 93, "RET_VOID", "ARG_PTR_TO_SPIN_LOCK", false, false)]
    [InlineData(ProgramType.Xdp, 105, "RET_INTEGER", "ARG_PTR_TO_MEM | MEM_RDONLY; ARG_CONST_SIZE; ARG_ANYTHING; ARG_PTR_TO_MEM | MEM_UNINIT | MEM_FIXED_SIZE | MEM_ALIGNED | MEM_WRITE", false, false)]
    [InlineData(ProgramType.Xdp, 130, "RET_INTEGER", "ARG_CONST_MAP_PTR; ARG_PTR_TO_MEM | MEM_RDONLY; ARG_CONST_SIZE_OR_ZERO; ARG_ANYTHING", false, false)]
    [InlineData(ProgramType.Xdp, 131, "RET_PTR_TO_MEM | PTR_MAYBE_NULL | MEM_RINGBUF", "ARG_CONST_MAP_PTR; ARG_CONST_ALLOC_SIZE_OR_ZERO; ARG_ANYTHING", false, false)]
    [InlineData(ProgramType.Xdp, 132, "RET_VOID", "ARG_PTR_TO_RINGBUF_MEM | OBJ_RELEASE; ARG_ANYTHING", false, false)]
    [InlineData(ProgramType.Xdp, 137, "RET_PTR_TO_BTF_ID | PTR_MAYBE_NULL", "ARG_PTR_TO_BTF_ID_SOCK_COMMON", false, false)]
    [InlineData(ProgramType.Xdp, 163, "RET_INTEGER", "ARG_PTR_TO_CTX; ARG_ANYTHING; ARG_PTR_TO_MEM | MEM_FIXED_SIZE | MEM_ALIGNED | MEM_WRITE; ARG_ANYTHING; ARG_ANYTHING", true, false)]
    [InlineData(ProgramType.Xdp, 164, "RET_INTEGER", "ARG_CONST_MAP_PTR; ARG_PTR_TO_FUNC; ARG_PTR_TO_STACK | PTR_MAYBE_NULL; ARG_ANYTHING", false, false)]
    [InlineData(ProgramType.Xdp, 169, "RET_INTEGER", "ARG_PTR_TO_TIMER; ARG_CONST_MAP_PTR; ARG_ANYTHING", true, false)]
    [InlineData(ProgramType.Xdp, 189, "RET_INTEGER", "ARG_PTR_TO_CTX; ARG_ANYTHING; ARG_PTR_TO_MEM | MEM_UNINIT | MEM_WRITE; ARG_CONST_SIZE", false, false)]
    [InlineData(ProgramType.Xdp, 190, "RET_INTEGER", "ARG_PTR_TO_CTX; ARG_ANYTHING; ARG_PTR_TO_MEM | MEM_RDONLY; ARG_CONST_SIZE", false, false)]
    [InlineData(ProgramType.Xdp, 194, "RET_PTR_TO_BTF_ID | PTR_MAYBE_NULL", "ARG_KPTR_XCHG_DEST; ARG_PTR_TO_BTF_ID | PTR_MAYBE_NULL | OBJ_RELEASE", false, false)]
    [InlineData(ProgramType.Xdp, 198, "RET_INTEGER", "ARG_CONST_MAP_PTR; ARG_ANYTHING; ARG_ANYTHING; ARG_PTR_TO_DYNPTR | MEM_UNINIT | DYNPTR_TYPE_RINGBUF | MEM_WRITE", false, false)]
    [InlineData(ProgramType.Xdp, 203, "RET_PTR_TO_MEM | PTR_MAYBE_NULL", "ARG_PTR_TO_DYNPTR | MEM_RDONLY; ARG_ANYTHING; ARG_CONST_ALLOC_SIZE_OR_ZERO", false, false)]
    [InlineData(ProgramType.Xdp, 206, "RET_INTEGER", "ARG_PTR_TO_MEM | MEM_RDONLY | MEM_FIXED_SIZE; ARG_PTR_TO_MEM | MEM_RDONLY | MEM_FIXED_SIZE", true, true)]
    [InlineData(ProgramType.Xdp, 148, "RET_INTEGER", "ARG_PTR_TO_MEM | MEM_UNINIT | MEM_WRITE; ARG_CONST_SIZE_OR_ZERO; ARG_ANYTHING", false, false)]
    [InlineData(ProgramType.SchedCls, 9, "RET_INTEGER", "ARG_PTR_TO_CTX; ARG_ANYTHING; ARG_PTR_TO_MEM | MEM_RDONLY; ARG_CONST_SIZE; ARG_ANYTHING", false, false)]
    [InlineData(ProgramType.SchedCls, 10, "RET_INTEGER", "ARG_PTR_TO_CTX; ARG_ANYTHING; ARG_ANYTHING; ARG_ANYTHING; ARG_ANYTHING", false, false)]
    [InlineData(ProgramType.SchedCls, 26, "RET_INTEGER", "ARG_PTR_TO_CTX; ARG_ANYTHING; ARG_PTR_TO_MEM | MEM_UNINIT | MEM_WRITE; ARG_CONST_SIZE", false, false)]
    [InlineData(ProgramType.SchedCls, 20, "RET_INTEGER", "ARG_PTR_TO_CTX; ARG_PTR_TO_MEM | MEM_UNINIT | MEM_WRITE; ARG_CONST_SIZE; ARG_ANYTHING", false, false)]
    [InlineData(ProgramType.SchedCls, 46, "RET_INTEGER", "ARG_PTR_TO_CTX", false, false)]
    [InlineData(ProgramType.SchedCls, 95, "RET_PTR_TO_SOCKET | PTR_MAYBE_NULL", "ARG_PTR_TO_SOCK_COMMON", false, false)]
    [InlineData(ProgramType.SchedCls, 96, "RET_PTR_TO_TCP_SOCK | PTR_MAYBE_NULL", "ARG_PTR_TO_SOCK_COMMON", false, false)]
    [InlineData(ProgramType.SchedCls, 107, "RET_PTR_TO_MAP_VALUE | PTR_MAYBE_NULL", "ARG_CONST_MAP_PTR; ARG_PTR_TO_BTF_ID_SOCK_COMMON; ARG_PTR_TO_MAP_VALUE | PTR_MAYBE_NULL; ARG_ANYTHING", false, false)]
    [InlineData(ProgramType.SchedCls, 124, "RET_INTEGER", "ARG_PTR_TO_CTX; ARG_PTR_TO_BTF_ID_SOCK_COMMON; ARG_ANYTHING", false, false)]
    [InlineData(ProgramType.SchedCls, 152, "RET_INTEGER", "ARG_ANYTHING; ARG_PTR_TO_MEM | PTR_MAYBE_NULL | MEM_RDONLY; ARG_CONST_SIZE_OR_ZERO; ARG_ANYTHING", false, false)]
    [InlineData(ProgramType.SocketFilter, 68, "RET_INTEGER", "ARG_PTR_TO_CTX; ARG_ANYTHING; ARG_PTR_TO_MEM | MEM_UNINIT | MEM_WRITE; ARG_CONST_SIZE; ARG_ANYTHING", false, false)]
    [InlineData(ProgramType.SocketFilter, 47, "RET_INTEGER", "ARG_PTR_TO_CTX", false, false)]
    public void GetProto_SpotCheck_MatchesTheKernelSource(ProgramType type, int id, string ret, string args, bool gpl, bool pkt)
    {
        var p = HelperProtos.GetProto(type, id)!;

        Assert.Equal(ret, p.RetText);
        Assert.Equal(args, string.Join("; ", p.Args.Take(p.ArgCount).Select(a => a.ToString())));
        Assert.Equal(gpl, p.GplOnly);
        Assert.Equal(pkt, p.PktAccess);
    }

    [Theory]
    [InlineData(105, 3, 8)]     // strtol res: sizeof(s64)
    [InlineData(106, 3, 8)]     // strtoul res
    [InlineData(163, 2, 4)]     // check_mtu mtu_len: sizeof(u32)
    [InlineData(204, 0, 20)]    // tcp_raw_gen_syncookie_ipv4: sizeof(struct iphdr)
    [InlineData(205, 0, 40)]    // ipv6hdr
    [InlineData(207, 1, 20)]    // tcphdr
    public void GetProto_FixedSizeArgument_KernelArgSize(int id, int arg, int size)
    {
        var a = HelperProtos.GetProto(ProgramType.Xdp, id)!.Args[arg];

        Assert.True(a.FixedSize);
        Assert.Equal(size, a.Size);
    }

    [Theory]
    [InlineData(ProgramType.SchedCls, 86, 0, "sock_common")]
    [InlineData(ProgramType.SchedCls, 107, 1, "sock_common")]
    [InlineData(ProgramType.Xdp, 141, 0, "task_struct")]
    [InlineData(ProgramType.Xdp, 210, 1, "cgroup")]
    public void GetProto_BtfArgument_KernelStructName(ProgramType type, int id, int arg, string btf)
    {
        Assert.Equal(btf, HelperProtos.GetProto(type, id)!.Args[arg].BtfType);
    }

    [Theory]
    [InlineData(136, "tcp6_sock")]
    [InlineData(137, "tcp_sock")]
    [InlineData(138, "tcp_timewait_sock")]
    [InlineData(139, "tcp_request_sock")]
    [InlineData(140, "udp6_sock")]
    [InlineData(178, "unix_sock")]
    [InlineData(158, "task_struct")]
    public void GetProto_BtfReturn_KernelStructName(int id, string btf)
    {
        Assert.Equal(btf, HelperProtos.GetProto(ProgramType.Xdp, id)!.RetBtfType);
    }

    [Fact]
    public void GetProto_GetCurrentTaskBtf_ReturnsATrustedPointer()
    {
        var p = HelperProtos.GetProto(ProgramType.Xdp, 158)!;

        Assert.Equal(RetType.PtrToBtfId, p.Ret);
        Assert.Equal(RegTypeFlags.PtrTrusted, p.RetFlags);
    }

    [Theory]
    [InlineData(148, true)]    // copy_from_user
    [InlineData(191, true)]    // copy_from_user_task
    [InlineData(1, false)]
    public void GetProto_MightSleep_AsTheKernel(int id, bool sleeps)
    {
        Assert.Equal(sleeps, HelperProtos.GetProto(ProgramType.Xdp, id)!.MightSleep);
    }

    [Fact]
    public void ReferenceFacts_AcquireReleaseCastAndPacketChanges_AsTheKernel()
    {
        var xdp = (int id) => HelperProtos.GetProto(ProgramType.Xdp, id)!;
        var tc = (int id) => HelperProtos.GetProto(ProgramType.SchedCls, id)!;

        Assert.True(xdp(84).AcquiresReference);
        Assert.True(xdp(131).AcquiresReference);
        Assert.False(xdp(1).AcquiresReference);
        Assert.Equal(0, xdp(86).ReleaseArg);
        Assert.Equal(0, xdp(132).ReleaseArg);
        Assert.Equal(0, xdp(199).ReleaseArg);
        Assert.Equal(1, xdp(194).ReleaseArg);
        Assert.Equal(-1, xdp(1).ReleaseArg);
        Assert.True(tc(96).IsPtrCast);
        Assert.True(xdp(137).IsPtrCast);
        Assert.True(xdp(44).ChangesPktData);
        Assert.True(xdp(65).ChangesPktData);
        Assert.True(tc(9).ChangesPktData);
        Assert.True(tc(39).ChangesPktData);
        Assert.False(xdp(190).ChangesPktData);   // xdp_store_bytes copies; it does not move data
        Assert.False(tc(26).ChangesPktData);
    }

    [Fact]
    public void GetProto_SameHelperTwice_SameObjectNoAllocation()
    {
        _ = HelperProtos.GetProto(ProgramType.Xdp, 1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        HelperProto? p = null;
        for (int i = 0; i < 1000; i++)
        {
            HelperProtos.Lookup(ProgramType.SchedCls, 0, 1 + (i % 200), out p);
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
        Assert.Same(HelperProtos.GetProto(ProgramType.Xdp, 1), HelperProtos.GetProto(ProgramType.SchedCls, 1));
        Assert.NotNull(p);
    }
}
