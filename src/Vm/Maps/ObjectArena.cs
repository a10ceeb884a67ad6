using System.Diagnostics.CodeAnalysis;
using VethXdp.Vm.Memory;

namespace VethXdp.Vm.Maps;

/// <summary>The memory objects of bpf_obj_new_impl and bpf_percpu_obj_new_impl come from (the kernel's
/// bpf_global_ma and bpf_global_percpu_ma): one block of native memory, owned by a map whose value has
/// <c>__kptr</c> fields and registered with that map's value regions, so every engine that registers the maps'
/// regions may touch the objects.</summary>
/// <remarks>
/// <para>An object is <c>round_up(size, 8)</c> bytes; a per-CPU object is one such copy per possible CPU, side by side,
/// and the pointer the program holds is the first copy's address (bpf_per_cpu_ptr adds <c>cpu * stride</c>). Objects
/// are zeroed when made (Linux's allocator does not clear them; a program the verifier accepts writes before it
/// reads). Freed objects go to a per-size free list and are reused last-in first-out, as bpf_mem_alloc's per-CPU
/// caches reuse them. An arena that is full makes the allocation fail: the kfunc returns NULL, as Linux does when
/// bpf_mem_alloc fails.</para>
/// <para>Arenas register themselves in a process-wide list, so a map can free the object a kptr field holds (on
/// overwrite, delete, or its own end) whichever map's arena it came from. Not a hot path: an allocation or free takes
/// a lock and may touch a dictionary.</para>
/// </remarks>
public sealed class ObjectArena : IDisposable
{
    /// <summary>Default size of an arena (1 MiB).</summary>
    public const int DefaultBytes = 1 << 20;

    private static readonly List<ObjectArena> s_arenas = [];
    private static readonly Lock s_registry = new();

    private readonly NativeBlock _block;
    private readonly Dictionary<ulong, ObjectInfo> _live = [];
    private readonly Dictionary<int, Stack<ulong>> _free = [];
    private readonly Lock _lock = new();
    private ulong _next;
    private bool _disposed;

    /// <summary>Creates an arena of <paramref name="bytes"/> bytes named after <paramref name="owner"/> (the map).</summary>
    public ObjectArena(string owner, int bytes = DefaultBytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        _block = new NativeBlock((ulong)bytes);
        Region = new MemoryRegion(_block.Address, _block.Length, RegionKind.MapValue, Writable: true, "map " + owner + " kptr objects");
        lock (s_registry)
        {
            s_arenas.Add(this);
        }
    }

    /// <summary>The arena's memory, for the checked engines' region table.</summary>
    public MemoryRegion Region { get; }

    /// <summary>Objects allocated and not yet freed.</summary>
    public int LiveObjects
    {
        get
        {
            lock (_lock)
            {
                return _live.Count;
            }
        }
    }

    /// <summary>Allocates a zeroed object of <paramref name="size"/> bytes (per CPU, <paramref name="cpus"/> copies; 0 for
    /// an ordinary object). Returns its address, or 0 when the arena is full.</summary>
    /// <param name="size">The type's size in bytes.</param>
    /// <param name="cpus">0 for an ordinary object, else the number of possible CPUs.</param>
    /// <param name="typeId">The local BTF type id (kept to check frees and exchanges).</param>
    public ulong Allocate(uint size, int cpus, uint typeId)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cpus);
        int stride = MapValue.RoundUp8((int)Math.Max(size, 1u));
        int total = stride * Math.Max(cpus, 1);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            ulong address;
            if (_free.TryGetValue(total, out var list) && list.Count > 0)
            {
                address = list.Pop();
            }
            else if (_next + (ulong)total <= _block.Length)
            {
                address = _block.Address + _next;
                _next += (ulong)total;
            }
            else
            {
                return 0;
            }

            _block.Slice(address - _block.Address, total).Clear();
            _live[address] = new ObjectInfo(total, cpus == 0 ? 0 : stride, cpus, typeId);
            return address;
        }
    }

    /// <summary>Frees the object at <paramref name="address"/>: true, or false when no live object starts there.</summary>
    public bool Free(ulong address)
    {
        lock (_lock)
        {
            if (_disposed || !_live.Remove(address, out var info))
            {
                return false;
            }

            if (!_free.TryGetValue(info.Total, out var list))
            {
                list = new Stack<ulong>();
                _free.Add(info.Total, list);
            }

            list.Push(address);
            return true;
        }
    }

    /// <summary>The live object that starts at <paramref name="address"/>.</summary>
    public bool TryGet(ulong address, out ObjectInfo info)
    {
        lock (_lock)
        {
            return _live.TryGetValue(address, out info);
        }
    }

    /// <summary>The arena a live object at <paramref name="address"/> belongs to, and the object.</summary>
    public static bool TryFind(ulong address, [NotNullWhen(true)] out ObjectArena? arena, out ObjectInfo info)
    {
        lock (s_registry)
        {
            foreach (var a in s_arenas)
            {
                if (address - a._block.Address < a._block.Length && a.TryGet(address, out info))
                {
                    arena = a;
                    return true;
                }
            }
        }

        arena = null;
        info = default;
        return false;
    }

    /// <summary>Frees the object at <paramref name="address"/> in whichever arena holds it (what freeing a kptr field
    /// does: kernel bpf_obj_free_fields()); 0 and unknown addresses are ignored.</summary>
    public static void Release(ulong address)
    {
        if (address != 0 && TryFind(address, out var arena, out _))
        {
            arena.Free(address);
        }
    }

    /// <summary>Frees the arena's memory and forgets it.</summary>
    public void Dispose()
    {
        lock (s_registry)
        {
            s_arenas.Remove(this);
        }

        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _live.Clear();
            _free.Clear();
        }

        _block.Dispose();
    }
}
