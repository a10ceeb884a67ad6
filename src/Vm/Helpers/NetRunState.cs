using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Runtime;

namespace VethXdp.Vm.Helpers;

/// <summary>What the networking helpers keep per engine: the <see cref="NetEnvironment"/> they look in, and the
/// per-packet state the verifier tracks in Linux (socket references a program holds, the spin lock it holds).</summary>
/// <remarks>
/// <para>Linux checks at load time that every looked-up socket is released and that no program exits, or calls a
/// helper, while holding a bpf_spin_lock. A program that was not verified runs here, so the helpers track the same
/// things at run time: <see cref="EndPacket"/> reports what is left over with the verifier's words, and a release or
/// unlock that does not pair faults at once.</para>
/// <para>Found through <see cref="For"/>; the runner calls <see cref="BeginPacket"/> before and <see cref="EndPacket"/>
/// after each frame.</para>
/// </remarks>
public sealed unsafe class NetRunState
{
    private NetEnvironment? _environment;
    private (int Socket, int Id)[] _references = new (int, int)[8];
    private int _referenceCount;
    private int _nextReferenceId;
    private ulong _heldLock;

    /// <summary>The state of <paramref name="env"/> (created on first use).</summary>
    public static NetRunState For(RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        return env.Net ??= new NetRunState();
    }

    /// <summary>The environment the helpers look in; a new one (loopback only) until set.</summary>
    public NetEnvironment Environment
    {
        get => _environment ??= new NetEnvironment();
        set => _environment = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>The RX metadata of the device a device-bound program runs on, which the metadata kfuncs return (the
    /// devices issue binds a veth here); null: frames carry none, and the kfuncs return -ENODATA. Programs that are
    /// not device-bound never call them: Linux refuses to load them (<see cref="KfuncHelpers.CheckLoad"/>).</summary>
    public IXdpRxMetadata? BoundDevice { get; set; }

    /// <summary>The address of the bpf_spin_lock the program holds, or 0.</summary>
    public ulong HeldLock => _heldLock;

    /// <summary>Socket references the program holds (looked up and not yet released).</summary>
    public int HeldReferences => _referenceCount;

    /// <summary>Forgets the previous packet's references, and releases a lock it left held (a fault may have left
    /// them), so the next packet does not find the lock taken.</summary>
    public void BeginPacket()
    {
        _referenceCount = 0;
        _nextReferenceId = 0;
        ReleaseHeldLock();
    }

    /// <summary>After a packet ran to its exit: the verifier's message for what it left behind (a held lock, an
    /// unreleased socket reference), or null. Resets the state (a held lock's word is cleared).</summary>
    public string? EndPacket()
    {
        string? message = null;
        if (_heldLock != 0)
        {
            // kernel: check_resource_leak() at BPF_EXIT
            message = "BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region";
        }
        else if (_referenceCount > 0)
        {
            // kernel: check_reference_leak()
            // The id counts the packet's socket references from 1; the kernel numbers all its ids and names the insn.
            message = $"Unreleased reference id={_references[0].Id} alloc_insn=-1 (a socket from bpf_sk_lookup / bpf_skc_lookup was not released)";
        }

        BeginPacket();
        return message;
    }

    // The lock word lives in a map value, which stays at its address for the object's life.
    private unsafe void ReleaseHeldLock()
    {
        if (_heldLock != 0)
        {
            *(uint*)_heldLock = 0;
            _heldLock = 0;
        }
    }

    // A lookup returned socket `index`: the program now holds a reference to it.
    internal void Acquire(int index)
    {
        if (_referenceCount == _references.Length)
        {
            Array.Resize(ref _references, _references.Length * 2);
        }

        _references[_referenceCount++] = (index, ++_nextReferenceId);
    }

    // bpf_sk_release: drops one reference to socket `index`; false when the program holds none.
    internal bool Release(int index)
    {
        for (int i = _referenceCount - 1; i >= 0; i--)
        {
            if (_references[i].Socket == index)
            {
                Array.Copy(_references, i + 1, _references, i, _referenceCount - i - 1);
                _referenceCount--;
                return true;
            }
        }

        return false;
    }

    internal void Lock(ulong address)
    {
        if (_heldLock != 0)
        {
            // kernel: process_spin_lock()
            throw new ExecutionFaultException(FaultKind.HelperFailed, "Locking two bpf_spin_locks are not allowed");
        }

        _heldLock = address;
    }

    internal void Unlock(ulong address)
    {
        if (_heldLock == 0)
        {
            throw new ExecutionFaultException(FaultKind.HelperFailed, "bpf_spin_unlock without taking a lock");
        }

        if (_heldLock != address)
        {
            throw new ExecutionFaultException(FaultKind.HelperFailed, "bpf_spin_unlock of different lock");
        }

        _heldLock = 0;
    }
}
