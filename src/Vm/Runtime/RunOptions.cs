using VethXdp.Vm.Interpreter;

namespace VethXdp.Vm.Runtime;

/// <summary>Run controls, with BPF_PROG_TEST_RUN's defaults.</summary>
public sealed record RunOptions
{
    /// <summary>The options used when none are given.</summary>
    public static RunOptions Default { get; } = new();

    /// <summary>xdp_md.ingress_ifindex (<c>--ifindex</c>): 1, the loopback device BPF_PROG_TEST_RUN uses.</summary>
    public uint Ifindex { get; init; } = 1;

    /// <summary>xdp_md.rx_queue_index (<c>--rx-queue</c>): 0.</summary>
    public uint RxQueue { get; init; }

    /// <summary>The CPU the program runs on (<c>--cpu</c>): what bpf_get_smp_processor_id returns and which per-CPU
    /// value maps use; must be below the object's possible CPUs. 0.</summary>
    public int Cpu { get; init; }

    /// <summary>The seed of bpf_get_prandom_u32's generator (<c>--seed</c>; see <see cref="Helpers.Prandom"/>). 0.</summary>
    public ulong Seed { get; init; }

    /// <summary>The clock at the first packet, in nanoseconds (<c>--time-ns</c>). 0.</summary>
    public ulong TimeNs { get; init; }

    /// <summary>How far the clock moves from one packet to the next (<c>--time-step-ns</c>); it does not move while a
    /// program runs. 0.</summary>
    public ulong TimeStepNs { get; init; }

    /// <summary>Instructions one packet may execute (tail calls and callbacks included) before it faults.</summary>
    public long InstructionBudget { get; init; } = InterpreterOptions.DefaultInstructionBudget;

    /// <summary>CONFIG_HZ for bpf_jiffies64: 250, as on the reference machine.</summary>
    public int JiffiesHz { get; init; } = 250;

    /// <summary>The network the networking helpers see (devices, addresses, routes, neighbours, sockets: fib_lookup,
    /// check_mtu, the socket lookups) and that devmaps resolve their ifindexes in; null: the loopback device only.</summary>
    public NetEnvironment? Network { get; init; }
}
