using System.Buffers.Binary;
using VethXdp.Vm.Memory;

namespace VethXdp.Vm.Maps;

/// <summary>The kernel's bpf_map_meta_equal / array_map_meta_equal: whether a map may be stored in a map of maps whose
/// inner-map template is a given definition.</summary>
public static class InnerMapCheck
{
    /// <summary>True when <paramref name="inner"/> matches <paramref name="template"/>: same type, key size, value size
    /// and flags, and for arrays the same max_entries unless the template has BPF_F_INNER_MAP.</summary>
    public static bool Matches(MapSpec template, BpfMap inner)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(inner);
        var s = inner.Spec;
        if (s.Type != template.Type || s.KeySize != template.KeySize || s.ValueSize != template.ValueSize ||
            s.Flags != template.Flags || !CanBeInner(s.Type))
        {
            return false;
        }

        if (s.Type is MapType.Array or MapType.PercpuArray)
        {
            return (template.Flags & MapFlags.InnerMap) != 0 || s.MaxEntries == template.MaxEntries;
        }

        return true;
    }

    /// <summary>False for the types the kernel refuses as inner maps (no map_meta_equal, or themselves maps of maps).</summary>
    public static bool CanBeInner(MapType type) => type is not (MapType.ProgArray or MapType.ArrayOfMaps or
        MapType.HashOfMaps or MapType.CgroupStorage or MapType.PercpuCgroupStorage or MapType.StructOps or
        MapType.Arena or MapType.Unspec);
}

/// <summary>BPF_MAP_TYPE_ARRAY_OF_MAPS (kernel/bpf/arraymap.c, map_in_map.c): an array of maps matching the
/// <see cref="MapSpec.InnerMap"/> template.</summary>
/// <remarks>
/// Programs' lookups return the inner map's <see cref="BpfMap.Handle"/> (0 when the slot is empty). User space writes
/// a u32 "fd" that <see cref="MapResolver"/> turns into a map (unresolved: -EBADF; not matching the template:
/// -EINVAL), reads the inner map's <see cref="BpfMap.Id"/>; updates take BPF_ANY only (-EINVAL), an index past the
/// end is -E2BIG, deleting an empty slot -ENOENT.
/// </remarks>
public sealed class ArrayOfMapsMap : BpfMap
{
    private readonly BpfMap?[] _maps;

    internal ArrayOfMapsMap(MapSpec spec, int possibleCpus)
        : base(spec, possibleCpus)
    {
        _maps = new BpfMap?[spec.MaxEntries];
    }

    /// <summary>Turns a user-side value (the runtime's map "fd") into a map, or null.</summary>
    public Func<uint, BpfMap?>? MapResolver { get; set; }

    /// <inheritdoc/>
    public override IReadOnlyList<MemoryRegion> ValueRegions => [];

    /// <summary>The map in slot <paramref name="index"/>, or null.</summary>
    public BpfMap? GetInnerMap(uint index) => index < (uint)_maps.Length ? _maps[index] : null;

    /// <summary>Stores <paramref name="map"/> (null clears) in slot <paramref name="index"/>: 0, -E2BIG past the end,
    /// -EINVAL when it does not match the inner-map template.</summary>
    public int SetInnerMap(uint index, BpfMap? map)
    {
        if (index >= (uint)_maps.Length)
        {
            return -Errno.E2BIG;
        }

        if (map is not null && !InnerMapCheck.Matches(Spec.InnerMap!, map))
        {
            return -Errno.EINVAL;
        }

        _maps[index] = map;
        return 0;
    }

    /// <inheritdoc/>
    public override ulong Lookup(ReadOnlySpan<byte> key, int cpu)
    {
        uint index = MapValue.U32(key);
        return index < (uint)_maps.Length && _maps[index] is { } m ? m.Handle : 0;
    }

    /// <inheritdoc/>
    public override int UserLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        if (!UserCanRead)
        {
            return -Errno.EPERM;
        }

        if (GetInnerMap(MapValue.U32(key)) is not { } m)
        {
            return -Errno.ENOENT;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(value, m.Id);
        return 0;
    }

    /// <inheritdoc/>
    public override int UserUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        // kernel: bpf_fd_array_map_update_elem
        if (!UserCanWrite)
        {
            return -Errno.EPERM;
        }

        if (flags != MapUpdateFlags.Any)
        {
            return -Errno.EINVAL;
        }

        uint index = MapValue.U32(key);
        if (index >= (uint)_maps.Length)
        {
            return -Errno.E2BIG;
        }

        var map = MapResolver?.Invoke(BinaryPrimitives.ReadUInt32LittleEndian(value));
        if (map is null)
        {
            return -Errno.EBADF;
        }

        return SetInnerMap(index, map);
    }

    /// <inheritdoc/>
    public override int UserDelete(ReadOnlySpan<byte> key)
    {
        if (!UserCanWrite)
        {
            return -Errno.EPERM;
        }

        uint index = MapValue.U32(key);
        if (index >= (uint)_maps.Length)
        {
            return -Errno.E2BIG;
        }

        if (_maps[index] is null)
        {
            return -Errno.ENOENT;
        }

        _maps[index] = null;
        return 0;
    }

    /// <inheritdoc/>
    public override int GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) =>
        UserCanRead ? ArrayKeys.GetNext(key, nextKey, (uint)_maps.Length) : -Errno.EPERM;
}

/// <summary>BPF_MAP_TYPE_HASH_OF_MAPS (kernel/bpf/hashtab.c, map_in_map.c): a hash table of maps matching the
/// <see cref="MapSpec.InnerMap"/> template.</summary>
/// <remarks>
/// Keys, buckets, order and update flags as <see cref="HashMap"/> (BPF_NOEXIST on a present key -EEXIST, BPF_EXIST on
/// a missing one -ENOENT, a new key in a full map -E2BIG); values as <see cref="ArrayOfMapsMap"/>.
/// </remarks>
public sealed class HashOfMapsMap : BpfMap
{
    private readonly HashTable _table;
    private readonly BpfMap?[] _maps;
    private readonly int[] _extra;
    private readonly int _keySize;

    internal HashOfMapsMap(MapSpec spec, int possibleCpus)
        : base(spec, possibleCpus)
    {
        _keySize = (int)spec.KeySize;
        int slots = checked((int)spec.MaxEntries + possibleCpus);
        _table = new HashTable(_keySize, slots, spec.MaxEntries, 0);
        _maps = new BpfMap?[slots];
        _table.FillFreeList();
        _extra = new int[possibleCpus];
        for (int c = 0; c < possibleCpus; c++)
        {
            _extra[c] = _table.PopFree();
        }
    }

    /// <summary>Turns a user-side value (the runtime's map "fd") into a map, or null.</summary>
    public Func<uint, BpfMap?>? MapResolver { get; set; }

    /// <inheritdoc/>
    public override IReadOnlyList<MemoryRegion> ValueRegions => [];

    /// <summary>Number of elements.</summary>
    public int Count => _table.Count;

    /// <summary>The map stored under <paramref name="key"/>, or null.</summary>
    public BpfMap? GetInnerMap(ReadOnlySpan<byte> key)
    {
        key = key.Slice(0, _keySize);
        int slot = _table.Find(key, _table.Hash(key));
        return slot < 0 ? null : _maps[slot];
    }

    /// <summary>Stores <paramref name="map"/> under <paramref name="key"/> with <paramref name="flags"/>, as a user-side
    /// update of its fd would: 0 or a negative errno.</summary>
    public int SetInnerMap(ReadOnlySpan<byte> key, BpfMap map, ulong flags = MapUpdateFlags.Any)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (flags > MapUpdateFlags.Exist)
        {
            return -Errno.EINVAL;
        }

        if (!InnerMapCheck.Matches(Spec.InnerMap!, map))
        {
            return -Errno.EINVAL;
        }

        key = key.Slice(0, _keySize);
        uint hash = _table.Hash(key);
        int old = _table.Find(key, hash);
        if (old >= 0 && flags == MapUpdateFlags.NoExist)
        {
            return -Errno.EEXIST;
        }

        if (old < 0 && flags == MapUpdateFlags.Exist)
        {
            return -Errno.ENOENT;
        }

        int slot;
        int cpu = (uint)UserCpu < (uint)PossibleCpus ? UserCpu : 0;
        if (old >= 0)
        {
            slot = _extra[cpu];
            _extra[cpu] = old;
        }
        else
        {
            slot = _table.PopFree();
            if (slot < 0)
            {
                return -Errno.E2BIG;
            }
        }

        _maps[slot] = map;
        _table.LinkHead(slot, key, hash);
        if (old >= 0)
        {
            _table.Unlink(old);
            _maps[old] = null;
        }

        return 0;
    }

    /// <inheritdoc/>
    public override ulong Lookup(ReadOnlySpan<byte> key, int cpu) => GetInnerMap(key)?.Handle ?? 0;

    /// <inheritdoc/>
    public override int UserLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        if (!UserCanRead)
        {
            return -Errno.EPERM;
        }

        if (GetInnerMap(key) is not { } m)
        {
            return -Errno.ENOENT;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(value, m.Id);
        return 0;
    }

    /// <inheritdoc/>
    public override int UserUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        // kernel: bpf_fd_htab_map_update_elem
        if (!UserCanWrite)
        {
            return -Errno.EPERM;
        }

        var map = MapResolver?.Invoke(BinaryPrimitives.ReadUInt32LittleEndian(value));
        return map is null ? -Errno.EBADF : SetInnerMap(key, map, flags);
    }

    /// <inheritdoc/>
    public override int UserDelete(ReadOnlySpan<byte> key)
    {
        if (!UserCanWrite)
        {
            return -Errno.EPERM;
        }

        key = key.Slice(0, _keySize);
        int slot = _table.Find(key, _table.Hash(key));
        if (slot < 0)
        {
            return -Errno.ENOENT;
        }

        _table.Unlink(slot);
        _maps[slot] = null;
        _table.PushFree(slot);
        return 0;
    }

    /// <inheritdoc/>
    public override int GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) =>
        UserCanRead ? _table.GetNextKey(key.IsEmpty ? key : key.Slice(0, _keySize), nextKey) : -Errno.EPERM;
}
