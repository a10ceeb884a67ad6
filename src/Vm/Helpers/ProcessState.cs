using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Memory;

namespace VethXdp.Vm.Helpers;

/// <summary>The current task of one <see cref="RuntimeEnv"/>: its <see cref="ProcessContext"/>, the read-only images of
/// its <c>task_struct</c> and <c>pt_regs</c> that bpf_get_current_task, bpf_get_current_task_btf and bpf_task_pt_regs
/// point at, and the signals programs sent it.</summary>
/// <remarks>
/// <para>Each environment has its own (<see cref="Of"/>); the state lives as long as the environment.</para>
/// <para>The <c>task_struct</c> image is zero except <c>flags</c>, <c>pid</c>, <c>tgid</c> and <c>comm</c>, at the
/// offsets the reference kernel's BTF gives them (Linux 6.18, x86-64: a 3264-byte struct; flags at 44, pid at 1264,
/// tgid at 1268, comm at 1752), so a program compiled against that kernel's vmlinux.h reads them. The <c>pt_regs</c>
/// image holds what every entry into bpf(BPF_PROG_TEST_RUN) leaves there on x86-64: orig_ax = 321 (__NR_bpf),
/// ax = -ENOSYS, di = 10 (BPF_PROG_TEST_RUN), cs = 0x33 and ss = 0x2b (user mode); the rest is zero.</para>
/// <para>The images are memory regions the program may read: helpers that return a pointer to them register them in
/// the run's region table when they are missing (<see cref="RegisterRegions"/> registers them for good).</para>
/// </remarks>
public sealed unsafe class ProcessState
{
    /// <summary>sizeof(struct task_struct) on the reference kernel.</summary>
    public const int TaskStructSize = 3264;

    /// <summary>Offset of task_struct.flags on the reference kernel.</summary>
    public const int TaskFlagsOffset = 44;

    /// <summary>Offset of task_struct.pid on the reference kernel.</summary>
    public const int TaskPidOffset = 1264;

    /// <summary>Offset of task_struct.tgid on the reference kernel.</summary>
    public const int TaskTgidOffset = 1268;

    /// <summary>Offset of task_struct.comm on the reference kernel.</summary>
    public const int TaskCommOffset = 1752;

    /// <summary>sizeof(struct pt_regs) on x86-64.</summary>
    public const int PtRegsSize = 168;

    /// <summary>PF_KTHREAD: the task_struct.flags bit of kernel threads.</summary>
    public const uint PfKthread = 0x00200000;

    /// <summary>_NSIG: signals are 1..64 (0 only tests permission).</summary>
    public const int MaxSignal = 64;

    private const int PtRegsOffset = (TaskStructSize + 63) & ~63;
    private const int PtRegsAx = 80, PtRegsDi = 112, PtRegsOrigAx = 120, PtRegsCs = 136, PtRegsSs = 160;
    private const ulong NrBpf = 321, BpfProgTestRun = 10, UserCs = 0x33, UserDs = 0x2b;
    private const string TaskRegionName = "current task (task_struct)";
    private const string PtRegsRegionName = "current task's pt_regs";

    private static readonly ConditionalWeakTable<RuntimeEnv, ProcessState> s_states = [];

    private readonly byte[] _memory = GC.AllocateArray<byte>(PtRegsOffset + PtRegsSize, pinned: true);
    private readonly ulong[] _groupSignals = new ulong[MaxSignal + 1];
    private readonly ulong[] _threadSignals = new ulong[MaxSignal + 1];
    private ProcessContext _context = ProcessContext.Default;
    private byte[] _comm = new byte[ProcessContext.CommLength];

    /// <summary>Creates the state of a task described by <see cref="ProcessContext.Default"/>.</summary>
    public ProcessState()
    {
        TaskAddress = (ulong)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_memory));
        PtRegsAddress = TaskAddress + PtRegsOffset;
        Render();
    }

    /// <summary>The task of <paramref name="env"/>, created with the defaults on first use.</summary>
    public static ProcessState Of(RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        return s_states.TryGetValue(env, out var state) ? state : s_states.GetValue(env, static _ => new ProcessState());
    }

    /// <summary>The task's description; setting it rewrites the task_struct image.</summary>
    public ProcessContext Context
    {
        get => _context;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            ArgumentNullException.ThrowIfNull(value.Comm);
            ArgumentNullException.ThrowIfNull(value.CgroupPath);
            _context = value;
            Render();
        }
    }

    /// <summary>The task's name as the kernel keeps it: at most 15 bytes of UTF-8 and a NUL, zero padded to 16.</summary>
    public ReadOnlySpan<byte> Comm => _comm;

    /// <summary>The address of the task_struct image: what bpf_get_current_task(_btf) returns.</summary>
    public ulong TaskAddress { get; }

    /// <summary>The address of the pt_regs image: what bpf_task_pt_regs returns for the task.</summary>
    public ulong PtRegsAddress { get; }

    /// <summary>The task_struct image as a read-only region.</summary>
    public MemoryRegion TaskRegion => new(TaskAddress, TaskStructSize, RegionKind.MapValue, Writable: false, TaskRegionName);

    /// <summary>The pt_regs image as a read-only region.</summary>
    public MemoryRegion PtRegsRegion => new(PtRegsAddress, PtRegsSize, RegionKind.MapValue, Writable: false, PtRegsRegionName);

    /// <summary>Registers the task_struct and pt_regs images in <paramref name="regions"/> unless they are there.</summary>
    public void RegisterRegions(RegionTable regions)
    {
        ArgumentNullException.ThrowIfNull(regions);
        if (regions.Find(TaskAddress, 1, write: false) < 0)
        {
            regions.Add(TaskRegion);
        }

        if (regions.Find(PtRegsAddress, 1, write: false) < 0)
        {
            regions.Add(PtRegsRegion);
        }
    }

    /// <summary>How many times a program sent signal <paramref name="signal"/> (0-64) to the task's thread group
    /// (bpf_send_signal) or, with <paramref name="thread"/>, to its thread (bpf_send_signal_thread).</summary>
    public ulong SignalsSent(int signal, bool thread = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(signal);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(signal, MaxSignal);
        return thread ? _threadSignals[signal] : _groupSignals[signal];
    }

    /// <summary>Forgets the signals sent so far.</summary>
    public void ClearSignals()
    {
        Array.Clear(_groupSignals);
        Array.Clear(_threadSignals);
    }

    // A signal the kernel would have delivered.
    internal void RecordSignal(int signal, bool thread)
    {
        if (thread)
        {
            _threadSignals[signal]++;
        }
        else
        {
            _groupSignals[signal]++;
        }
    }

    // Faults unless `pointer` is the task (a PTR_TO_BTF_ID the verifier would have checked).
    internal void CheckTask(ulong pointer, int arg)
    {
        if (pointer != TaskAddress)
        {
            ThrowNotTask(pointer, arg);
        }
    }

    private void Render()
    {
        var comm = new byte[ProcessContext.CommLength];
        int n = CommBytes(_context.Comm, comm.AsSpan(0, ProcessContext.CommLength - 1));
        comm.AsSpan(n).Clear();
        _comm = comm;

        var task = _memory.AsSpan();
        task.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(task[TaskFlagsOffset..], _context.IsKernelThread ? PfKthread : 0);
        BinaryPrimitives.WriteUInt32LittleEndian(task[TaskPidOffset..], _context.Pid);
        BinaryPrimitives.WriteUInt32LittleEndian(task[TaskTgidOffset..], _context.Tgid);
        comm.CopyTo(task[TaskCommOffset..]);

        var regs = task.Slice(PtRegsOffset, PtRegsSize);
        BinaryPrimitives.WriteUInt64LittleEndian(regs[PtRegsAx..], unchecked((ulong)-Maps.Errno.ENOSYS));
        BinaryPrimitives.WriteUInt64LittleEndian(regs[PtRegsDi..], BpfProgTestRun);
        BinaryPrimitives.WriteUInt64LittleEndian(regs[PtRegsOrigAx..], NrBpf);
        BinaryPrimitives.WriteUInt64LittleEndian(regs[PtRegsCs..], UserCs);
        BinaryPrimitives.WriteUInt64LittleEndian(regs[PtRegsSs..], UserDs);
    }

    // The UTF-8 bytes of `name` that fit in `dest` without splitting a character; a NUL ends the name early.
    private static int CommBytes(string name, Span<byte> dest)
    {
        int n = 0;
        Span<byte> one = stackalloc byte[4];
        foreach (var rune in name.EnumerateRunes())
        {
            if (rune.Value == 0)
            {
                break;
            }

            int len = rune.EncodeToUtf8(one);
            if (n + len > dest.Length)
            {
                break;
            }

            one[..len].CopyTo(dest[n..]);
            n += len;
        }

        return n;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowNotTask(ulong pointer, int arg) =>
        throw new ExecutionFaultException(FaultKind.HelperFailed, $"R{arg} is not a pointer to the current task_struct (0x{pointer:x})");
}
