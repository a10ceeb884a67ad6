using VethXdp.Verifier.Log;
using VethXdp.Vm.Elf;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Tests.Selftests;

/// <summary>bpf_loop callbacks verified as loops (the next iteration starts from the caller's stack as the previous
/// one left it, up to the loop count) and tail calls from subprograms (the caller's packet pointers are invalid after
/// the call; inside the subprogram a failed tail call changes nothing). The programs are
/// <c>callbacks_tailcalls.c</c> next to this file (committed object, BTF included, so the callbacks load); every
/// expectation is what Linux 6.18 decided when the object was loaded with libbpf (2026-11-26, 6.18.44).</summary>
public sealed class CallbackTailCallTests
{
    private static readonly Lazy<BpfObject> s_obj = new(() =>
        ElfObjectReader.Load(Path.Combine(TestPaths.RepoRoot, "tests", "VethXdp.Verifier.Tests", "Selftests", "callbacks_tailcalls.o")));

    /// <summary>program, kernel decision, errno, the kernel's message (last log line before the statistics), insn.</summary>
    public static TheoryData<string, bool, string, string, int> Cases() => new()
    {
        { "cb_store_then_branch", true, "", "", -1 },
        { "cb_map_then_zero_two", false, "EACCES", "R1 type=scalar expected=map_ptr", 17 },
        { "cb_map_then_zero_one", true, "", "", -1 },
        { "cb_counter", true, "", "", -1 },
        { "cb_counter_unchecked", true, "", "", -1 },
        { "cb_args_clobbered", false, "EACCES", "R3 !read_ok", 6 },
        { "cb_unknown_count", true, "", "", -1 },
        { "tail_in_sub_caller_pkt", false, "EACCES", "R7 invalid mem access 'scalar'", 8 },
        { "tail_in_sub_own_pkt", true, "", "", -1 },
        { "tail_in_void_sub", false, "EINVAL", "tail_call is only allowed in functions that return 'int'.", -1 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Verify_Program_DecidesAsLinux(string program, bool accept, string errno, string msg, int insn)
    {
        var obj = s_obj.Value;
        ProgramSpec spec = obj.Programs.Single(p => p.Name == program);
        var r = BpfVerifier.Verify(spec, obj.Maps, new VerifierOptions { LogLevel = VerifierLogLevel.Level1 });
        Assert.True(accept == r.Accepted, $"{program}: expected {(accept ? "accept" : "reject")}\n{r.Log}");
        if (!accept)
        {
            Assert.Equal(errno, r.Error!.ErrnoName);
            Assert.Equal(msg, r.Error.Message);
            Assert.Equal(insn, r.Error.InsnIndex);
        }
    }

    [Fact]
    public void Verify_CallbackOverwritingMapPointer_RejectedOnlyInTheSecondIteration()
    {
        // the first iteration uses the map pointer and stores 0 over it: a second iteration must see the 0
        var obj = s_obj.Value;
        var two = BpfVerifier.Verify(obj.Programs.Single(p => p.Name == "cb_map_then_zero_two"), obj.Maps);
        var one = BpfVerifier.Verify(obj.Programs.Single(p => p.Name == "cb_map_then_zero_one"), obj.Maps);
        Assert.False(two.Accepted);
        Assert.True(one.Accepted, one.Log);
    }
}
