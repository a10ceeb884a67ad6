using System.Buffers.Binary;
using VethXdp.Vm.Interpreter;

namespace VethXdp.Vm.Helpers;

/// <summary>bpf_spin_lock and bpf_spin_unlock (kernel/bpf/helpers.c) on the <c>struct bpf_spin_lock</c> in a map value.
/// A run is one CPU, so a lock is never contended: the lock word goes 0 -&gt; 1 -&gt; 0 (the queued spinlock's locked
/// value), and what the verifier enforces in Linux is checked as the program runs.</summary>
/// <remarks>Faults, with the verifier's words: taking a second lock while holding one ("Locking two bpf_spin_locks are
/// not allowed"), unlocking without a lock or a different one, taking a lock whose word is already set (on one CPU that
/// never returns), and exiting while holding it (reported by <see cref="NetRunState.EndPacket"/>). Calls to other
/// helpers while holding the lock, which the verifier refuses, are not checked.</remarks>
public static class NetSpinLockHelpers
{
    /// <summary>bpf_spin_lock(lock) (93): takes the lock. Returns 0.</summary>
    public static ulong SpinLock(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var word = env.Store(r1, sizeof(uint));
        var state = NetRunState.For(env);
        state.Lock(r1);
        if (BinaryPrimitives.ReadUInt32LittleEndian(word) != 0)
        {
            state.Unlock(r1);
            throw AlreadyHeld(r1);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(word, 1);
        return 0;
    }

    /// <summary><see cref="SpinLock"/> for a program the verifier accepted (the unchecked JIT binds it): without the
    /// region check of the lock's address (kernel: process_spin_lock() proved it is the bpf_spin_lock of a map value)
    /// and without the per-run lock tracking (the verifier proved the program takes one lock at a time, releases the
    /// lock it took, and does not exit or tail-call holding it). A lock word that is already set still faults.</summary>
    public static unsafe ulong SpinLockVerified(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        uint* word = (uint*)r1;
        if (*word != 0)
        {
            throw AlreadyHeld(r1);
        }

        *word = 1;
        return 0;
    }

    /// <summary><see cref="SpinUnlock"/> for a program the verifier accepted: the lock word back to 0 (see
    /// <see cref="SpinLockVerified"/>).</summary>
    public static unsafe ulong SpinUnlockVerified(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        *(uint*)r1 = 0;
        return 0;
    }

    private static ExecutionFaultException AlreadyHeld(ulong address) =>
        new(FaultKind.HelperFailed,
            $"bpf_spin_lock: the lock at 0x{address:x} is already held (a run that exits holding it leaves it set); on one CPU this never returns");

    /// <summary>bpf_spin_unlock(lock) (94): releases the lock the program holds. Returns 0.</summary>
    public static ulong SpinUnlock(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var word = env.Store(r1, sizeof(uint));
        NetRunState.For(env).Unlock(r1);
        BinaryPrimitives.WriteUInt32LittleEndian(word, 0);
        return 0;
    }
}
