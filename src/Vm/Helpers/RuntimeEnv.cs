using System.Runtime.CompilerServices;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Memory;
using VethXdp.Vm.Xdp;

namespace VethXdp.Vm.Helpers;

/// <summary>Per-run state that helpers see: the memory regions, the virtual clock, the CPU, the maps, the XDP frame,
/// the redirect state, tail calls, callbacks, and the trace and event output.</summary>
/// <remarks>One instance belongs to one engine (interpreter, JIT or simulated CPU) and is reused across runs.
/// <see cref="BeginPacket"/> resets what the kernel gives each BPF_PROG_TEST_RUN afresh.</remarks>
public sealed unsafe class RuntimeEnv
{
    private const int ScratchSlot = 512;
    private const int ScratchSlots = 8;

    private MemoryRegion[] _scratch = new MemoryRegion[16];
    private byte[]? _keyScratch;
    private byte[] _bytes = new byte[256];
    private int _keyScratchDepth;

    /// <summary>Creates an environment with an empty region table and the clock at 0.</summary>
    public RuntimeEnv()
        : this(new RegionTable())
    {
    }

    /// <summary>Creates an environment over an existing region table.</summary>
    public RuntimeEnv(RegionTable regions)
    {
        ArgumentNullException.ThrowIfNull(regions);
        Regions = regions;
    }

    /// <summary>The memory regions the running program may access.</summary>
    public RegionTable Regions { get; }

    // ---- time ----

    /// <summary>The virtual clock in nanoseconds: what bpf_ktime_get_ns returns. Reading it does not move it;
    /// the caller moves it (<see cref="AdvanceClock"/>), e.g. by the time step between packets.</summary>
    public ulong ClockNs { get; set; }

    /// <summary>The kernel's CONFIG_HZ, for bpf_jiffies64 (250, as on the reference machine).</summary>
    public int JiffiesHz { get; set; } = 250;

    /// <summary>The clock: what the ktime helpers return.</summary>
    public ulong ReadClock() => ClockNs;

    /// <summary>Advances the clock by <paramref name="nanoseconds"/>.</summary>
    public void AdvanceClock(ulong nanoseconds) => ClockNs += nanoseconds;

    // ---- CPUs ----

    /// <summary>The CPU the program runs on: what bpf_get_smp_processor_id returns, and the per-CPU slot maps use.</summary>
    public int Cpu { get; set; }

    /// <summary>Number of possible CPUs (nr_cpu_ids): bpf_map_lookup_percpu_elem refuses CPUs at or above it.</summary>
    public int PossibleCpus { get; set; } = 1;

    /// <summary>What bpf_get_numa_node_id returns.</summary>
    public int NumaNode { get; set; }

    /// <summary>The generator behind bpf_get_prandom_u32.</summary>
    public Prandom Random;

    // ---- maps, frame, redirect ----

    /// <summary>Resolves the map handles programs pass to helpers; null when the run has no maps.</summary>
    public IMapResolver? Maps { get; set; }

    /// <summary>The XDP frame of the current run, or null (a run over plain memory, or over a bare packet).</summary>
    public XdpBuffer? Xdp { get; set; }

    /// <summary>The index in <see cref="Regions"/> of the packet region of <see cref="Xdp"/>, or -1.</summary>
    public int PacketRegionIndex { get; set; } = -1;

    /// <summary>The kernel's bpf_redirect_info for the current packet.</summary>
    public RedirectState Redirect;

    // ---- tail calls and callbacks ----

    /// <summary>Tail calls taken so far in this run (the kernel's tail_call_cnt; at most 33 succeed).</summary>
    public int TailCallCount { get; set; }

    /// <summary>Set by bpf_tail_call to the program to continue in; the engine takes it (and clears it) when the helper returns.</summary>
    public object? PendingTailCall { get; set; }

    /// <summary>The networking helpers' state of this run state (<see cref="NetRunState.For"/>), made on first use.</summary>
    internal NetRunState? Net { get; set; }

    /// <summary>The engine, for helpers that call BPF functions (bpf_loop, bpf_for_each_map_elem).</summary>
    public IBpfCallbackInvoker? Callbacks { get; set; }

    // ---- output ----

    /// <summary>What bpf_trace_printk and bpf_trace_vprintk printed during the current packet.</summary>
    public TraceLog Trace { get; } = new();

    /// <summary>Ring buffer and perf event records of the current packet.</summary>
    public EventLog Events { get; } = new();

    /// <summary>Resets the per-packet state: the redirect info, the tail call count, trace and events.</summary>
    public void BeginPacket()
    {
        _keyScratchDepth = 0;
        Redirect.Reset();
        TailCallCount = 0;
        PendingTailCall = null;
        Trace.Clear();
        Events.Clear();
    }

    // ---- memory access for helpers (checked like the program's own loads and stores) ----

    /// <summary>The <paramref name="size"/> readable bytes at <paramref name="address"/>, or a fault naming the nearest region.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<byte> Load(ulong address, int size)
    {
        if (size <= 0)
        {
            return size == 0 ? default : ThrowBadSize(size);
        }

        if (Regions.Find(address, size, write: false) < 0)
        {
            ThrowOutOfBounds(address, size, write: false);
        }

        return new ReadOnlySpan<byte>((void*)address, size);
    }

    /// <summary>The <paramref name="size"/> writable bytes at <paramref name="address"/>, or a fault naming the nearest region.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> Store(ulong address, int size)
    {
        if (size <= 0)
        {
            return size == 0 ? default : ThrowBadSize(size);
        }

        if (Regions.Find(address, size, write: true) < 0)
        {
            ThrowOutOfBounds(address, size, write: true);
        }

        return new Span<byte>((void*)address, size);
    }

    /// <summary>True when the run owns the <paramref name="size"/> bytes at <paramref name="address"/> (for reading).</summary>
    public bool IsReadable(ulong address, int size) => size >= 0 && (size == 0 || Regions.Find(address, size, write: false) >= 0);

    /// <summary>Copies the NUL-terminated string at <paramref name="address"/> into <paramref name="buffer"/> (without
    /// the NUL), stopping at the NUL, at the buffer's end, or at the end of the run's memory. The length copied, or
    /// -1 when the first byte is not readable.</summary>
    public int CopyString(ulong address, Span<byte> buffer)
    {
        int n = 0;
        while (n < buffer.Length)
        {
            ulong a = address + (ulong)n;
            if (Regions.Find(a, 1, write: false) < 0)
            {
                return n == 0 ? -1 : n;
            }

            byte b = *(byte*)a;
            if (b == 0)
            {
                break;
            }

            buffer[n++] = b;
        }

        return n;
    }

    /// <summary>The map whose handle is <paramref name="handle"/>, or a fault saying argument <paramref name="arg"/> is not a map.</summary>
    public BpfMap ResolveMap(ulong handle, int arg = 1)
    {
        var map = Maps?.ResolveMap(handle);
        if (map is null)
        {
            ThrowNotAMap(handle, arg);
        }

        return map;
    }

    /// <summary>The XDP frame, checking that <paramref name="ctx"/> is its context, or a fault.</summary>
    public XdpBuffer XdpFrame(ulong ctx)
    {
        var xdp = Xdp;
        if (xdp is null || ctx != xdp.Context.Address)
        {
            ThrowNotXdpContext(ctx);
        }

        return xdp;
    }

    /// <summary>Re-registers the packet region after a helper moved data_meta, data or data_end.</summary>
    public void RefreshPacketRegion()
    {
        int index = PacketRegionIndex;
        if (Xdp is null || index < 0)
        {
            return;
        }

        // RegionTable grows and shrinks in stack order: lift the regions above the packet (the call frames), replace
        // the packet, and put them back.
        int above = Regions.Count - index - 1;
        if (_scratch.Length < above)
        {
            _scratch = new MemoryRegion[Math.Max(above, _scratch.Length * 2)];
        }

        for (int i = 0; i < above; i++)
        {
            _scratch[i] = Regions[index + 1 + i];
        }

        Regions.Truncate(index);
        Regions.Add(Xdp.PacketRegion);
        for (int i = 0; i < above; i++)
        {
            Regions.Add(_scratch[i]);
        }
    }

    /// <summary>A scratch byte buffer of <paramref name="size"/> bytes for a helper's own use, valid until the next call
    /// (it grows once to the largest size asked for, and is then reused).</summary>
    public Span<byte> Scratch(int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        if (_bytes.Length < size)
        {
            _bytes = new byte[Math.Max(size, _bytes.Length * 2)];
        }

        return _bytes.AsSpan(0, size);
    }

    /// <summary>Copies <paramref name="data"/> (at most 512 bytes) into helper-owned memory and registers it as a
    /// read-only region until <see cref="PopScratch"/>: the key a helper hands a callback (bpf_for_each_map_elem).
    /// Scratch slots nest up to 8 deep.</summary>
    public ulong PushScratch(ReadOnlySpan<byte> data, string name)
    {
        if (data.Length > ScratchSlot || _keyScratchDepth >= ScratchSlots)
        {
            throw new ExecutionFaultException(FaultKind.HelperFailed, "helper scratch memory exhausted");
        }

        _keyScratch ??= GC.AllocateArray<byte>(ScratchSlot * ScratchSlots, pinned: true);
        var slot = _keyScratch.AsSpan(_keyScratchDepth * ScratchSlot, ScratchSlot);
        data.CopyTo(slot);
        ulong address = (ulong)Unsafe.AsPointer(ref slot[0]);
        _keyScratchDepth++;
        if (data.Length > 0)
        {
            Regions.Add(new MemoryRegion(address, (ulong)data.Length, RegionKind.MapValue, Writable: false, name));
        }

        return address;
    }

    /// <summary>Unregisters the scratch memory of the last <see cref="PushScratch"/>; <paramref name="regionCount"/> is
    /// the region count before it.</summary>
    public void PopScratch(int regionCount)
    {
        Regions.Truncate(regionCount);
        if (_keyScratchDepth > 0)
        {
            _keyScratchDepth--;
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void ThrowOutOfBounds(ulong address, int size, bool write) =>
        throw new ExecutionFaultException(FaultKind.OutOfBounds, "helper argument: " + Regions.DescribeViolation(address, size, write));

    private static Span<byte> ThrowBadSize(int size) =>
        throw new ExecutionFaultException(FaultKind.HelperFailed, $"helper argument: invalid size {size}");

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowNotAMap(ulong handle, int arg) =>
        throw new ExecutionFaultException(FaultKind.HelperFailed, $"R{arg} is not a map pointer (0x{handle:x})");

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowNotXdpContext(ulong ctx) =>
        throw new ExecutionFaultException(FaultKind.HelperFailed, $"R1 is not the XDP context (0x{ctx:x})");
}
