using VethXdp.Vm.Maps;
using VethXdp.Vm.Tests.Runtime;

namespace VethXdp.Vm.Tests.NetHelpers;

/// <summary>bpf_spin_lock / bpf_spin_unlock on one CPU: the lock word goes 0 -&gt; 1 -&gt; 0, and what the verifier
/// refuses in Linux stops the run with its message.</summary>
public class SpinLockTests
{
    private static MapSpec Values() => Rt.Map("m", MapType.Array, 4, 8, 2);

    private const string Lookup0 = """
        *(u32 *)(r10 -4) = 0
        r1 = map[idx:0]
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r6 = r0
        """;

    // Locks value 0, counts in its second word, unlocks; r0 = counter | word-while-held << 8 | word-after << 16.
    private const string Count = Lookup0 + """

        r1 = r6
        call bpf_spin_lock
        r7 = *(u32 *)(r6 +0)
        r1 = *(u32 *)(r6 +4)
        r1 += 1
        *(u32 *)(r6 +4) = r1
        r1 = r6
        call bpf_spin_unlock
        r0 = *(u32 *)(r6 +4)
        r7 <<= 8
        r0 |= r7
        r1 = *(u32 *)(r6 +0)
        r1 <<= 16
        r0 |= r1
        out:
        exit
        """;

    [Fact]
    public void LockUnlock_WordSetWhileHeld_CounterPersists()
    {
        using var run = new NetRun(Count, null, null, Values());
        Assert.Equal(0x000101u, run.Run().Retval);
        var o = run.Run();
        Assert.Null(o.Error);
        Assert.Equal(0x000102u, o.Retval);
    }

    [Fact]
    public void ExitHoldingLock_ReportedAndReleasedForTheNextPacket()
    {
        using var run = new NetRun(Lookup0 + "\nr1 = r6\ncall bpf_spin_lock\nr0 = 2\nout:\nexit", null, null, Values());
        const string Message = "BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region";
        Assert.Equal(Message, NetRun.Fault(run.Run()));
        Assert.Equal(Message, NetRun.Fault(run.Run())); // not "already held": the word was cleared
    }

    [Fact]
    public void Lock_WordAlreadySet_Deadlock()
    {
        string asm = Lookup0 + "\n*(u32 *)(r6 +0) = 1\nr1 = r6\ncall bpf_spin_lock\nout:\nexit";
        Assert.Contains("is already held", NetRun.Fault(NetRun.Once(asm, maps: Values())));
    }

    [Fact]
    public void TwoLocks_Fault()
    {
        string asm = Lookup0 + """

            r1 = r6
            call bpf_spin_lock
            r1 = r6
            call bpf_spin_lock
            out:
            exit
            """;
        Assert.Contains("Locking two bpf_spin_locks are not allowed", NetRun.Fault(NetRun.Once(asm, maps: Values())));
    }

    [Fact]
    public void UnlockWithoutLock_Fault()
    {
        string asm = Lookup0 + "\nr1 = r6\ncall bpf_spin_unlock\nout:\nexit";
        Assert.Contains("bpf_spin_unlock without taking a lock", NetRun.Fault(NetRun.Once(asm, maps: Values())));
    }

    [Fact]
    public void UnlockOtherLock_Fault()
    {
        string asm = Lookup0 + """

            r1 = r6
            call bpf_spin_lock
            r1 = r6
            r1 += 4
            call bpf_spin_unlock
            out:
            exit
            """;
        Assert.Contains("bpf_spin_unlock of different lock", NetRun.Fault(NetRun.Once(asm, maps: Values())));
    }

    [Fact]
    public void Lock_ReadOnlyMemory_Faults() =>
        Assert.Contains("out-of-bounds store of 4 bytes", NetRun.Fault(NetRun.Once("call bpf_spin_lock\nexit")));
}
