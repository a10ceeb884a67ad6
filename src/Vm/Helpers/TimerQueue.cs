using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Maps;

namespace VethXdp.Vm.Helpers;

/// <summary>The BPF timers (<c>struct bpf_timer</c> in map values) of the maps a set of runs shares, over the runs'
/// virtual clock: what bpf_timer_init, bpf_timer_set_callback, bpf_timer_start and bpf_timer_cancel act on, and the
/// callbacks that fire when the caller advances time (<see cref="AdvanceTo"/>).</summary>
/// <remarks>
/// <para>Like the kernel, which keeps a pointer to its <c>struct bpf_hrtimer</c> in the first 8 bytes of the map
/// value's <c>struct bpf_timer</c>, the queue writes a token there that names the timer. So a timer ends where the
/// kernel's does: when the element is updated or deleted, its value bytes are overwritten (the program cannot write
/// them: the verifier forbids direct access to a bpf_timer), the token is gone and the timer is uninitialised again;
/// a timer whose token is gone never fires. User space sees the token in the value bytes (the kernel zeroes special
/// fields when bpf() copies a value out).</para>
/// <para>Time is the <see cref="RuntimeEnv.ClockNs"/> of the run that arms a timer; every clock id (CLOCK_MONOTONIC,
/// CLOCK_REALTIME, CLOCK_BOOTTIME) reads that one clock. Nothing fires while a program runs: a timer fires only when
/// <see cref="AdvanceTo"/> reaches its expiry, so in a single run (a short BPF_PROG_TEST_RUN) no callback runs.</para>
/// <para>Every <see cref="RuntimeEnv"/> has its own queue (<see cref="Of"/>); environments that share maps (the
/// simulated CPUs of one simulator) should share one queue (<see cref="Attach"/>). One thread at a time.</para>
/// </remarks>
public sealed class BpfTimerQueue
{
    /// <summary>MAX_CLOCKS: bpf_timer_init's flags must be a clock id below it.</summary>
    public const int MaxClocks = 16;

    /// <summary>CLOCK_REALTIME.</summary>
    public const int ClockRealtime = 0;

    /// <summary>CLOCK_MONOTONIC.</summary>
    public const int ClockMonotonic = 1;

    /// <summary>CLOCK_BOOTTIME.</summary>
    public const int ClockBoottime = 7;

    /// <summary>BPF_F_TIMER_ABS: the expiry is an absolute time on the timer's clock.</summary>
    public const ulong TimerAbs = 1;

    /// <summary>BPF_F_TIMER_CPU_PIN: the callback runs on the CPU that armed the timer.</summary>
    public const ulong TimerCpuPin = 2;

    /// <summary>sizeof(struct bpf_timer).</summary>
    public const int TimerSize = 16;

    /// <summary>The most callbacks one <see cref="AdvanceTo"/> runs (a timer that re-arms itself with 0 ns would
    /// otherwise fire forever).</summary>
    public const int MaxCallbacksPerAdvance = 1_000_000;

    private const int EDEADLK = 35;
    private const int IndexBits = 20;
    private const int MaxTimers = 1 << IndexBits;
    private const ulong IndexMask = MaxTimers - 1;
    private const ulong GenerationMask = (1UL << 24) - 1;
    private const ulong TokenTag = 0xFFFF_F000_0000_0000UL;
    private const ulong TokenTagMask = 0xFFFF_F000_0000_0000UL;

    // ktime_set(KTIME_SEC_MAX, 0): where ktime_add_safe() puts an expiry that overflows.
    private const long KtimeSecMaxNs = long.MaxValue / 1_000_000_000L * 1_000_000_000L;

    private static readonly ConditionalWeakTable<RuntimeEnv, BpfTimerQueue> s_queues = [];

    private Slot[] _slots = new Slot[8];
    private int[] _free = new int[8];
    private int _freeCount;
    private int _used;
    private int _live;
    private int _running = -1;
    private int _armed;
    private ulong _sequence;

    // No armed timer expires before this (a lower bound, so that advancing to an earlier time costs nothing).
    private long _earliest = long.MaxValue;

    /// <summary>The queue the timer helpers of <paramref name="env"/> use, created on first use.</summary>
    public static BpfTimerQueue Of(RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        return s_queues.TryGetValue(env, out var queue) ? queue : s_queues.GetValue(env, static _ => new BpfTimerQueue());
    }

    /// <summary>Makes <paramref name="env"/>'s timer helpers use <paramref name="queue"/> (share one queue between
    /// environments that share maps).</summary>
    public static void Attach(RuntimeEnv env, BpfTimerQueue queue)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(queue);
        s_queues.AddOrUpdate(env, queue);
    }

    /// <summary>Initialised timers (armed or not).</summary>
    public int Count => _live;

    /// <summary>Armed timers.</summary>
    public int ArmedCount => _armed;

    /// <summary>The earliest expiry of an armed timer, in nanoseconds of the virtual clock.</summary>
    public bool TryGetNextExpiry(out ulong expiresNs)
    {
        int next = NextArmed(long.MaxValue);
        expiresNs = next >= 0 ? (ulong)_slots[next].Expires : 0;
        return next >= 0;
    }

    /// <summary>Every initialised timer (a snapshot for tools; allocates).</summary>
    public IReadOnlyList<BpfTimerInfo> GetTimers()
    {
        var list = new List<BpfTimerInfo>(_live);
        for (int i = 0; i < _used; i++)
        {
            ref readonly var s = ref _slots[i];
            if (s.InUse)
            {
                list.Add(new BpfTimerInfo(s.Address, s.Map!.Name, s.Clock, s.Callback != 0, s.Armed,
                    s.Armed ? (ulong)s.Expires : 0, s.Cpu, s.Pinned));
            }
        }

        return list;
    }

    /// <summary>Moves <paramref name="env"/>'s clock forward to <paramref name="nowNs"/>, firing every armed timer
    /// that expires on the way, earliest first (armed order among equal expiries), each with the clock at its expiry
    /// (the kernel's bpf_timer_cb: <c>callback(map, key, value)</c>; the key is a read-only copy). A callback may
    /// re-arm timers; those that expire by <paramref name="nowNs"/> fire in the same call. Returns the number of
    /// callbacks run (at most <see cref="MaxCallbacksPerAdvance"/>). The clock never moves back.</summary>
    /// <remarks>The callbacks run through <see cref="RuntimeEnv.Callbacks"/>, the engine of the program that set them,
    /// between packet runs. Their trace messages and events go to <paramref name="env"/>'s logs; a fault in a
    /// callback propagates (<see cref="ExecutionFaultException"/>) and leaves the other timers as they were.</remarks>
    public int AdvanceTo(RuntimeEnv env, ulong nowNs)
    {
        ArgumentNullException.ThrowIfNull(env);
        long now = (long)Math.Min(nowNs, (ulong)long.MaxValue);
        int fired = 0;
        while (fired < MaxCallbacksPerAdvance && _armed > 0 && _earliest <= now)
        {
            int i = NextArmed(now);
            if (i < 0)
            {
                break;
            }

            ref var s = ref _slots[i];
            s.Armed = false;
            _armed--;
            if (!IsIntact(env, i))
            {
                Free(i);
                continue;
            }

            // kernel: bpf_timer_cb(): no callback (cancelled) -> nothing runs.
            if (s.Callback == 0)
            {
                continue;
            }

            if ((long)env.ClockNs < s.Expires)
            {
                env.ClockNs = (ulong)s.Expires;
            }

            if (!FindElement(env, i))
            {
                Free(i);
                continue;
            }

            var engine = env.Callbacks ?? throw new ExecutionFaultException(FaultKind.NotSupported, "this engine cannot run callbacks");
            ulong callback = s.Callback;
            ulong map = s.Map!.Handle;
            ulong value = s.Value;
            int regions = env.Regions.Count;
            ulong key = env.PushScratch(s.Key, "map key");
            _running = i;
            try
            {
                engine.InvokeCallback(callback, map, key, value, 0, 0);
            }
            finally
            {
                _running = -1;
                env.PopScratch(regions);
            }

            fired++;
        }

        if (env.ClockNs < nowNs)
        {
            env.ClockNs = nowNs;
        }

        return fired;
    }

    /// <summary>Cancels and forgets every timer (the kernel's map_release_uref when user space lets the maps go).</summary>
    public void Clear()
    {
        Array.Clear(_slots);
        _used = 0;
        _live = 0;
        _armed = 0;
        _freeCount = 0;
        _earliest = long.MaxValue;
    }

    // ---- the helpers' side; `timer` is the struct bpf_timer, `mem` its 16 bytes ----

    // kernel: bpf_timer_init() and __bpf_async_init().
    internal long Init(RuntimeEnv env, ulong timer, Span<byte> mem, BpfMap map, ulong flags)
    {
        if (map.Type is not (MapType.Hash or MapType.LruHash or MapType.Array))
        {
            throw new ExecutionFaultException(FaultKind.HelperFailed,
                $"map {map.Name}: a bpf_timer in a map of type {MapTypeNames.ToName(map.Type)}: Linux creates no such map (-EOPNOTSUPP)");
        }

        if (!InValues(map, timer))
        {
            throw new ExecutionFaultException(FaultKind.HelperFailed,
                $"timer pointer in R1 (0x{timer:x}) doesn't match map pointer in R2 (map {map.Name})");
        }

        ulong clock = flags & (MaxClocks - 1);
        if (flags >= MaxClocks || clock is not (ClockMonotonic or ClockRealtime or ClockBoottime))
        {
            return -Errno.EINVAL;
        }

        if (Find(timer, mem) >= 0)
        {
            return -Errno.EBUSY;
        }

        int i = Allocate(env);
        if (i < 0)
        {
            return -Errno.ENOMEM;
        }

        ref var s = ref _slots[i];
        s.Generation = (s.Generation + 1) & (uint)GenerationMask;
        s.Token = TokenTag | ((ulong)s.Generation << IndexBits) | (uint)i;
        s.InUse = true;
        s.Address = timer;
        s.Map = map;
        s.Clock = (int)clock;
        s.Callback = 0;
        s.Armed = false;
        s.Key = null;
        s.Value = 0;
        BinaryPrimitives.WriteUInt64LittleEndian(mem, s.Token);
        _live++;
        return 0;
    }

    // kernel: __bpf_async_set_callback().
    internal long SetCallback(ulong timer, ReadOnlySpan<byte> mem, ulong callback)
    {
        int i = Find(timer, mem);
        if (i < 0)
        {
            return -Errno.EINVAL;
        }

        _slots[i].Callback = callback;
        return 0;
    }

    // kernel: bpf_timer_start().
    internal long Start(RuntimeEnv env, ulong timer, ReadOnlySpan<byte> mem, ulong nsecs, ulong flags)
    {
        if ((flags & ~(TimerAbs | TimerCpuPin)) != 0)
        {
            return -Errno.EINVAL;
        }

        int i = Find(timer, mem);
        if (i < 0 || _slots[i].Callback == 0)
        {
            return -Errno.EINVAL;
        }

        ref var s = ref _slots[i];
        long t = unchecked((long)nsecs);
        if ((flags & TimerAbs) != 0)
        {
            s.Expires = Math.Max(t, 0);
        }
        else
        {
            // kernel: ktime_add_safe(tim, now): an overflow or a negative sum means "never" (KTIME_SEC_MAX).
            long now = (long)Math.Min(env.ClockNs, (ulong)long.MaxValue);
            long sum = unchecked(t + now);
            s.Expires = sum < 0 || sum < t || sum < now ? KtimeSecMaxNs : sum;
        }

        if (!s.Armed)
        {
            s.Armed = true;
            _armed++;
        }

        _earliest = Math.Min(_earliest, s.Expires);
        s.Sequence = ++_sequence;
        s.Pinned = (flags & TimerCpuPin) != 0;
        s.Cpu = env.Cpu;
        return 0;
    }

    // kernel: bpf_timer_cancel(): 1 when the timer was armed, 0 when not; the callback is dropped either way.
    internal long Cancel(ReadOnlySpan<byte> mem, ulong timer)
    {
        int i = Find(timer, mem);
        if (i < 0)
        {
            return -Errno.EINVAL;
        }

        if (i == _running)
        {
            // A callback cancelling its own timer would wait for itself.
            return -EDEADLK;
        }

        ref var s = ref _slots[i];
        s.Callback = 0;
        bool wasArmed = s.Armed;
        s.Armed = false;
        _armed -= wasArmed ? 1 : 0;
        return wasArmed ? 1 : 0;
    }

    // The slot whose token `mem` holds, or -1 (an uninitialised timer).
    private int Find(ulong timer, ReadOnlySpan<byte> mem)
    {
        ulong token = BinaryPrimitives.ReadUInt64LittleEndian(mem);
        if ((token & TokenTagMask) != TokenTag)
        {
            return -1;
        }

        int i = (int)(token & IndexMask);
        return i < _used && _slots[i].InUse && _slots[i].Token == token && _slots[i].Address == timer ? i : -1;
    }

    // The armed timer that expires first, by `limit` at the latest; refreshes the lower bound of all expiries.
    private int NextArmed(long limit)
    {
        int best = -1;
        long earliest = long.MaxValue;
        for (int i = 0; i < _used; i++)
        {
            ref readonly var s = ref _slots[i];
            if (!s.InUse || !s.Armed)
            {
                continue;
            }

            earliest = Math.Min(earliest, s.Expires);
            if (s.Expires <= limit
                && (best < 0 || s.Expires < _slots[best].Expires || (s.Expires == _slots[best].Expires && s.Sequence < _slots[best].Sequence)))
            {
                best = i;
            }
        }

        _earliest = earliest;
        return best;
    }

    // The token is still in the timer's bytes (the element was neither updated nor deleted).
    private bool IsIntact(RuntimeEnv env, int i)
    {
        ref readonly var s = ref _slots[i];
        return env.IsReadable(s.Address, TimerSize)
            && BinaryPrimitives.ReadUInt64LittleEndian(env.Load(s.Address, 8)) == s.Token;
    }

    // Finds (once) the element whose value holds the timer: its key and value address, for the callback.
    private bool FindElement(RuntimeEnv env, int i)
    {
        ref var s = ref _slots[i];
        var map = s.Map!;
        if (s.Key is not null && s.Value != 0 && map.Lookup(s.Key, env.Cpu) == s.Value)
        {
            return true;
        }

        int keySize = (int)map.Spec.KeySize;
        ulong valueSize = map.Spec.ValueSize;
        var key = new byte[keySize];
        var next = new byte[keySize];
        bool first = true;
        while (map.GetNextKey(first ? ReadOnlySpan<byte>.Empty : key, next) == 0)
        {
            first = false;
            next.CopyTo(key, 0);
            ulong value = map.Lookup(key, env.Cpu);
            if (value != 0 && s.Address - value < valueSize)
            {
                s.Key = key;
                s.Value = value;
                return true;
            }
        }

        return false;
    }

    private static bool InValues(BpfMap map, ulong timer)
    {
        var regions = map.ValueRegions;
        for (int i = 0; i < regions.Count; i++)
        {
            if (regions[i].Contains(timer, TimerSize))
            {
                return true;
            }
        }

        return false;
    }

    private int Allocate(RuntimeEnv env)
    {
        if (_freeCount == 0 && _used == _slots.Length)
        {
            // Before growing, forget the timers whose elements were updated or deleted.
            for (int i = 0; i < _used; i++)
            {
                if (_slots[i].InUse && !IsIntact(env, i))
                {
                    Free(i);
                }
            }

            if (_freeCount == 0)
            {
                if (_slots.Length >= MaxTimers)
                {
                    return -1;
                }

                Array.Resize(ref _slots, _slots.Length * 2);
                Array.Resize(ref _free, _slots.Length);
            }
        }

        return _freeCount > 0 ? _free[--_freeCount] : _used++;
    }

    private void Free(int i)
    {
        ref var s = ref _slots[i];
        if (!s.InUse)
        {
            return;
        }

        _armed -= s.Armed ? 1 : 0;
        uint generation = s.Generation;
        s = default;
        s.Generation = generation;
        _free[_freeCount++] = i;
        _live--;
    }

    private struct Slot
    {
        public ulong Address;
        public ulong Token;
        public BpfMap? Map;
        public ulong Callback;
        public long Expires;
        public ulong Sequence;
        public ulong Value;
        public byte[]? Key;
        public uint Generation;
        public int Clock;
        public int Cpu;
        public bool InUse;
        public bool Armed;
        public bool Pinned;
    }
}

/// <summary>One BPF timer as <see cref="BpfTimerQueue.GetTimers"/> shows it.</summary>
/// <param name="Address">The address of its <c>struct bpf_timer</c> in the map value.</param>
/// <param name="Map">The map's name.</param>
/// <param name="Clock">The clock id bpf_timer_init was given (0 realtime, 1 monotonic, 7 boottime).</param>
/// <param name="HasCallback">True after bpf_timer_set_callback (until bpf_timer_cancel).</param>
/// <param name="Armed">True when started and not yet fired or cancelled.</param>
/// <param name="ExpiresNs">When an armed timer fires, on the virtual clock; 0 when not armed.</param>
/// <param name="Cpu">The CPU that last armed it.</param>
/// <param name="Pinned">True when armed with BPF_F_TIMER_CPU_PIN.</param>
public readonly record struct BpfTimerInfo(ulong Address, string Map, int Clock, bool HasCallback, bool Armed, ulong ExpiresNs, int Cpu, bool Pinned);
