using VethXdp.Verifier.Log;
using VethXdp.Vm.Elf;

namespace VethXdp.Verifier.Tests.Pruning;

/// <summary>Real programs explored exactly as Linux 6.18 explores them: the statistics line of the kernel's log
/// (processed insns, max_states_per_insn, total_states, peak_states), recorded from the running 6.18 kernel with
/// <c>bpftool -d prog load</c>, must come out the same. Equal counters mean the same checkpoints, the same pruning
/// decisions and the same evictions; the loop programs exercise precision backtracking through loops, the
/// checkpoint heuristics (jmps/insns since the last one, 40 jmp_history entries) and the list order.</summary>
public sealed class KernelStatsTests
{
    public static TheoryData<string, string, int, int, int, int> Programs() => new()
    {
        // object, program, processed, max_states_per_insn, total_states, peak_states (Linux 6.18.44)
        { "xdp_ipv4_options.v3.o", "xdp_ipv4_options", 91477, 15, 2584, 111 },
        { "xdp_ipv6_exthdr.v3.o", "xdp_ipv6_exthdr", 12095, 13, 681, 187 },
        { "xdp_strings.v3.o", "xdp_strings", 6187, 5, 387, 73 },
        { "xdp_gotol.v3.o", "xdp_gotol", 16273, 0, 1025, 1025 },
        { "xdp_vlan_loop.v3.o", "xdp_vlan_loop", 607, 4, 17, 16 },
        { "xdp_l4_filter.v3.o", "xdp_l4_filter", 450, 1, 41, 41 },
        { "xdp_local_storage.v3.o", "xdp_local_storage", 313, 1, 26, 26 },
        { "xdp_devmap_switch.v3.o", "xdp_switch", 104, 0, 6, 6 },
        { "xdp_ipv4_options.v4.o", "xdp_ipv4_options", 91477, 15, 2584, 111 },
        // callbacks: the drain callback, bpf_for_each_map_elem's and the timer callback (an async state of its own)
        { "xdp_user_ringbuf.v3.o", "xdp_user_ringbuf", 936, 5, 55, 55 },
        { "xdp_for_each.v3.o", "xdp_for_each", 117, 1, 10, 10 },
        { "xdp_timers.v3.o", "xdp_timers", 294, 1, 27, 27 },
        { "xdp_loops.v3.o", "xdp_loops", 1647, 4, 63, 37 },
        // pruning that needs 6.18's stack liveness (dead spilled slots of complete states forgotten), subprograms
        // included: the callees' reads and writes of their callers' frames reach the call instructions
        { "xdp_subprogs.v2.o", "xdp_subprogs", 206, 2, 17, 17 },
        { "xdp_subprogs.v3.o", "xdp_subprogs", 196, 2, 16, 16 },
        { "xdp_subprogs.v4.o", "xdp_subprogs", 195, 1, 16, 16 },
        { "xdp_kptr.v2.o", "xdp_kptr", 1344, 4, 41, 41 },
        { "xdp_kptr.v3.o", "xdp_kptr", 1157, 4, 43, 43 },
        { "xdp_kptr.v4.o", "xdp_kptr", 1059, 4, 41, 41 },
        { "xdp_http_methods.v3.o", "xdp_http_methods", 1373, 5, 125, 95 },
        { "xdp_ipv4_options.v2.o", "xdp_ipv4_options", 413610, 20, 11148, 128 },
        // skc_to_unix_sock is no pointer cast (no ref_obj_id); a constant tail-call key is precise (record_func_key);
        // bpf_find_vma's callback is explored; get_task_stack's result is refined (do_refine_retval_range)
        { "xdp_socket_casts.v3.o", "xdp_socket_casts", 1042, 4, 86, 83 },
        { "xdp_tailcall.v3.o", "xdp_dispatch", 50, 1, 4, 4 },
        { "xdp_task_info.v3.o", "xdp_task_info", 10034, 12, 314, 118 },
    };

    [Theory]
    [MemberData(nameof(Programs))]
    public void Verify_CorpusProgram_StatsEqualKernel(string file, string prog, int processed, int maxStates, int total, int peak)
    {
        var obj = ElfObjectReader.Load(Path.Combine(TestPaths.CorpusDir, "xdp", file));
        var spec = obj.FindProgram(prog);
        Assert.NotNull(spec);
        var r = BpfVerifier.Verify(spec, obj.Maps, new VerifierOptions { LogLevel = VerifierLogLevel.None });
        Assert.True(r.Accepted, r.Error?.Message);
        Assert.Equal(
            (processed, maxStates, total, peak),
            (r.Stats.InsnProcessed, r.Stats.MaxStatesPerInsn, r.Stats.TotalStates, r.Stats.PeakStates));
    }
}
