using System.Runtime.CompilerServices;
using VethXdp.Vm.Memory;

namespace VethXdp.Vm.Maps;

/// <summary>BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY (kernel/bpf/arraymap.c), also the maps of global data
/// (.data, .rodata, .bss: one element holding the section).</summary>
/// <remarks>
/// Every element exists from creation, zeroed: one block of native memory holds max_entries values of
/// round_up(value_size, 8) bytes (per-CPU: one such run per CPU, CPU-major, each run starting on a 64-byte cache
/// line so that simulated CPUs on different threads never share a line, as the kernel's per-CPU areas do not), at
/// addresses fixed for the map's life. The padding is internal: user-side values stay round_up(value_size, 8) bytes
/// per CPU, packed.
/// Updates copy into place; delete is -EINVAL; BPF_NOEXIST is -EEXIST; an index past the end is -E2BIG for updates
/// and a miss for lookups. get_next_key walks indices 0..max_entries-1.
/// </remarks>
public sealed unsafe class ArrayMap : BpfMap
{
    private readonly NativeBlock _values;
    private readonly ulong _base;
    private readonly int _elemSize;
    private readonly int _valueSize;
    private readonly ulong _cpuStride;
    private readonly uint _max;
    private readonly bool _percpu;
    private readonly MemoryRegion[] _regions;
    private readonly ObjectArena? _objects;

    internal ArrayMap(MapSpec spec, int possibleCpus)
        : base(spec, possibleCpus)
    {
        _percpu = spec.Type == MapType.PercpuArray;
        _valueSize = (int)spec.ValueSize;
        _elemSize = MapValue.RoundUp8(_valueSize);
        _max = spec.MaxEntries;
        ulong copies = _percpu ? (ulong)possibleCpus : 1UL;
        ulong run = (ulong)_elemSize * _max;
        _cpuStride = _percpu ? CacheLine.RoundUp(run) : run;
        _values = new NativeBlock(_cpuStride * copies);
        _base = _values.Address;
        if (spec.InitialData is { } init)
        {
            init.CopyTo(_values.Slice(0, init.Length));
        }

        if (spec.KptrFields.Count != 0)
        {
            _objects = new ObjectArena(spec.Name);
        }

        _regions = BuildRegions();
    }

    /// <inheritdoc/>
    public override IReadOnlyList<MemoryRegion> ValueRegions => _regions;

    /// <inheritdoc/>
    public override ObjectArena? Objects => _objects;

    /// <summary>Address of element <paramref name="index"/>'s value (for <paramref name="cpu"/> in per-CPU arrays), or 0
    /// past the end: what BPF_PSEUDO_MAP_VALUE loads of global data resolve to.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong ValueAddress(uint index, int cpu = 0)
    {
        if (index >= _max || (uint)cpu >= (uint)PossibleCpus)
        {
            return 0;
        }

        ulong run = _percpu ? (ulong)cpu * _cpuStride : 0UL;
        return _base + run + ((ulong)index * (ulong)_elemSize);
    }

    /// <summary><see cref="Lookup"/> of the u32 key <paramref name="index"/> without the span: what the kernel inlines
    /// into a program at a lookup call on an array (array_map_gen_lookup, percpu_array_map_gen_lookup): the index
    /// bounds-checked against max_entries, then base + index * elem_size (+ the CPU's copy).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong LookupIndex(uint index, int cpu) => ValueAddress(index, _percpu ? cpu : 0);

    /// <inheritdoc/>
    public override int UserValueSize => _percpu ? _elemSize * PossibleCpus : _valueSize;

    /// <inheritdoc/>
    public override ulong Lookup(ReadOnlySpan<byte> key, int cpu)
    {
        // kernel: array_map_lookup_elem / percpu_array_map_lookup_elem
        if (key.Length < 4)
        {
            return 0;
        }

        return ValueAddress(MapValue.U32(key), _percpu ? cpu : 0);
    }

    /// <inheritdoc/>
    public override long Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, int cpu)
    {
        // kernel: array_map_update_elem
        if ((flags & ~MapUpdateFlags.Lock) > MapUpdateFlags.Exist)
        {
            return -Errno.EINVAL;
        }

        uint index = MapValue.U32(key);
        if (index >= _max)
        {
            return -Errno.E2BIG;
        }

        if ((flags & MapUpdateFlags.NoExist) != 0)
        {
            return -Errno.EEXIST;
        }

        if ((flags & MapUpdateFlags.Lock) != 0 && Spec.SpinLockOffset < 0)
        {
            return -Errno.EINVAL;
        }

        if ((uint)cpu >= (uint)PossibleCpus)
        {
            return -Errno.EINVAL;
        }

        ulong addr = ValueAddress(index, _percpu ? cpu : 0);
        Overwrite(addr, value.Slice(0, _valueSize), _valueSize);
        return 0;
    }

    /// <inheritdoc/>
    public override long Delete(ReadOnlySpan<byte> key) => -Errno.EINVAL;

    /// <inheritdoc/>
    public override int UserLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        if (!UserCanRead)
        {
            return -Errno.EPERM;
        }

        uint index = MapValue.U32(key);
        if (index >= _max)
        {
            return -Errno.ENOENT;
        }

        if (!_percpu)
        {
            new ReadOnlySpan<byte>((void*)ValueAddress(index), _valueSize).CopyTo(value);
            MapValue.HideSpecialFields(value.Slice(0, _valueSize), Spec);
            return 0;
        }

        // kernel: bpf_percpu_array_copy: round_up(value_size, 8) bytes per possible CPU
        for (int c = 0; c < PossibleCpus; c++)
        {
            new ReadOnlySpan<byte>((void*)ValueAddress(index, c), _elemSize).CopyTo(value.Slice(c * _elemSize, _elemSize));
        }

        return 0;
    }

    /// <inheritdoc/>
    public override int UserUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        if (!UserCanWrite)
        {
            return -Errno.EPERM;
        }

        if ((flags & MapUpdateFlags.Lock) != 0 && Spec.SpinLockOffset < 0)
        {
            return -Errno.EINVAL;
        }

        if (!_percpu)
        {
            return (int)Update(key, value, flags, 0);
        }

        // kernel: bpf_percpu_array_update
        if (flags > MapUpdateFlags.Exist)
        {
            return -Errno.EINVAL;
        }

        uint index = MapValue.U32(key);
        if (index >= _max)
        {
            return -Errno.E2BIG;
        }

        if (flags == MapUpdateFlags.NoExist)
        {
            return -Errno.EEXIST;
        }

        for (int c = 0; c < PossibleCpus; c++)
        {
            Overwrite(ValueAddress(index, c), value.Slice(c * _elemSize, _elemSize), _elemSize);
        }

        return 0;
    }

    /// <inheritdoc/>
    public override int UserDelete(ReadOnlySpan<byte> key) => UserCanWrite ? -Errno.EINVAL : -Errno.EPERM;

    /// <inheritdoc/>
    public override int GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) =>
        UserCanRead ? ArrayKeys.GetNext(key, nextKey, _max) : -Errno.EPERM;

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (Spec.KptrFields.Count != 0)
            {
                // kernel: array_map_free() -> bpf_obj_free_fields() on every element.
                int copies = _percpu ? PossibleCpus : 1;
                for (int c = 0; c < copies; c++)
                {
                    for (uint index = 0; index < _max; index++)
                    {
                        MapValue.FreeKptrs(ValueAddress(index, c), Spec);
                    }
                }
            }

            _objects?.Dispose();
            _values.Dispose();
        }

        base.Dispose(disposing);
    }

    // kernel: array_map_update_elem(): copy_map_value() (around the spin lock and the kptr fields), then
    // bpf_obj_free_fields(): the objects the kptr fields held are freed and the fields read NULL.
    private void Overwrite(ulong addr, ReadOnlySpan<byte> value, int length)
    {
        bool kptrs = Spec.KptrFields.Count != 0;
        if (kptrs)
        {
            MapValue.FreeKptrs(addr, Spec);
        }

        MapValue.Copy(new Span<byte>((void*)addr, length), value, Spec.SpinLockOffset);
        if (kptrs)
        {
            MapValue.ClearKptrs(addr, Spec);
        }
    }

    private MemoryRegion[] BuildRegions()
    {
        bool writable = (Spec.Flags & MapFlags.RdonlyProg) == 0 && !Spec.Frozen;
        var kind = Spec.IsGlobalData ? RegionKind.GlobalData : RegionKind.MapValue;
        var values = new MemoryRegion(_values.Address, _values.Length, kind, writable, "map " + Name + " values");
        return _objects is null ? [values] : [values, _objects.Region];
    }
}

/// <summary>The 64-byte cache line each CPU's run of per-CPU values starts on (arrays and hash maps alike).</summary>
internal static class CacheLine
{
    /// <summary>Bytes in a cache line on the machines we run on (x86-64, arm64).</summary>
    public const ulong Size = 64;

    /// <summary><paramref name="bytes"/> rounded up to a whole number of cache lines (at least one).</summary>
    public static ulong RoundUp(ulong bytes) => Math.Max(Size, (bytes + Size - 1) & ~(Size - 1));
}

/// <summary>get_next_key of every array-indexed map (array_map_get_next_key, dev_map_get_next_key, ...).</summary>
internal static class ArrayKeys
{
    /// <summary>No key or an index past the end: 0; the last index: -ENOENT; else index + 1.</summary>
    public static int GetNext(ReadOnlySpan<byte> key, Span<byte> nextKey, uint max)
    {
        uint index = key.Length >= 4 ? MapValue.U32(key) : uint.MaxValue;
        uint next;
        if (index >= max)
        {
            next = 0;
        }
        else if (index == max - 1)
        {
            return -Errno.ENOENT;
        }
        else
        {
            next = index + 1;
        }

        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(nextKey, next);
        return 0;
    }
}
