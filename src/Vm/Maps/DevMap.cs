using System.Buffers.Binary;
using VethXdp.Vm.Memory;

namespace VethXdp.Vm.Maps;

/// <summary>One target of a device map: the key, the device's ifindex, the device (when a resolver found it) and the
/// devmap program attached to the entry (or null).</summary>
/// <param name="Key">The map key.</param>
/// <param name="Ifindex">The device's ifindex.</param>
/// <param name="Device">The device, when the map has a resolver.</param>
/// <param name="Program">The BPF_XDP_DEVMAP program run before transmit, or null.</param>
public readonly record struct DevMapEntry(uint Key, uint Ifindex, INetDevice? Device, object? Program);

/// <summary>BPF_MAP_TYPE_DEVMAP (kernel/bpf/devmap.c): an array of egress devices for bpf_redirect_map.</summary>
/// <remarks>
/// <para>Values are a u32 ifindex (value_size 4) or <c>struct bpf_devmap_val { u32 ifindex; union { int fd; u32 id; }
/// bpf_prog; }</c> (value_size 8). The device must exist: <see cref="DeviceResolver"/> finds it; without a resolver
/// any ifindex from 1 to INT_MAX is taken to exist. A program fd &gt; 0 goes through <see cref="ProgramResolver"/>
/// (null or unresolved: -EINVAL, as the kernel refuses a program that is not an XDP devmap program); the entry keeps
/// the program and reports the fd as bpf_prog.id. Writing ifindex 0 empties the slot (with a program fd: -EINVAL).
/// Updates: flags past BPF_EXIST -EINVAL, index past the end -E2BIG, BPF_NOEXIST -EEXIST (every slot exists); delete
/// of an index past the end -EINVAL, of an empty slot 0.</para>
/// <para>Programs read entries through a read-only copy of bpf_devmap_val (the kernel's lookup returns &amp;dev->val and
/// the map is BPF_F_RDONLY_PROG); lookups of empty slots return 0. get_next_key walks every index, present or not.</para>
/// </remarks>
public sealed unsafe class DevMap : BpfMap
{
    private readonly NativeBlock _vals;
    private readonly bool[] _present;
    private readonly object?[] _programs;
    private readonly INetDevice?[] _devices;
    private readonly MemoryRegion[] _regions;

    internal DevMap(MapSpec spec, int possibleCpus)
        : base(spec, possibleCpus)
    {
        uint max = spec.MaxEntries;
        _vals = new NativeBlock(8UL * max);
        _present = new bool[max];
        _programs = new object?[max];
        _devices = new INetDevice?[max];
        _regions = [new MemoryRegion(_vals.Address, _vals.Length, RegionKind.MapValue, false, "map " + Name + " values")];
    }

    /// <summary>Finds devices by ifindex; null accepts every ifindex from 1 to INT_MAX.</summary>
    public INetDeviceResolver? DeviceResolver { get; set; }

    /// <summary>Turns bpf_devmap_val.bpf_prog.fd (the runtime's program "fd") into a devmap program, or null.</summary>
    public Func<uint, object?>? ProgramResolver { get; set; }

    /// <inheritdoc/>
    public override IReadOnlyList<MemoryRegion> ValueRegions => _regions;

    /// <summary>Number of occupied slots.</summary>
    public int Count { get; private set; }

    /// <summary>__dev_map_lookup_elem for bpf_redirect_map: the ifindex in slot <paramref name="key"/>.</summary>
    public bool TryGetRedirectTarget(uint key, out uint ifindex)
    {
        if (key < (uint)_present.Length && _present[key])
        {
            ifindex = *(uint*)(_vals.Pointer + (8UL * key));
            return true;
        }

        ifindex = 0;
        return false;
    }

    /// <summary>The entry in slot <paramref name="key"/>.</summary>
    public bool TryGetEntry(uint key, out DevMapEntry entry)
    {
        if (TryGetRedirectTarget(key, out uint ifindex))
        {
            entry = new DevMapEntry(key, ifindex, _devices[key], _programs[key]);
            return true;
        }

        entry = default;
        return false;
    }

    /// <summary>The devmap program attached to slot <paramref name="key"/>, or null.</summary>
    public object? GetProgram(uint key) => key < (uint)_programs.Length ? _programs[key] : null;

    /// <summary>Copies the occupied entries in key order into <paramref name="destination"/> (for BPF_F_BROADCAST);
    /// returns how many were copied.</summary>
    public int CopyEntries(Span<DevMapEntry> destination)
    {
        int n = 0;
        for (uint k = 0; k < (uint)_present.Length && n < destination.Length; k++)
        {
            if (TryGetEntry(k, out var e))
            {
                destination[n++] = e;
            }
        }

        return n;
    }

    /// <summary>Stores a target directly (a program object instead of an fd); the same checks as an update with BPF_ANY.</summary>
    public int SetTarget(uint key, uint ifindex, object? program = null, uint programId = 0)
    {
        if (key >= (uint)_present.Length)
        {
            return -Errno.E2BIG;
        }

        return Store(key, ifindex, program, programId);
    }

    /// <inheritdoc/>
    public override ulong Lookup(ReadOnlySpan<byte> key, int cpu)
    {
        uint k = MapValue.U32(key);
        return k < (uint)_present.Length && _present[k] ? _vals.Address + (8UL * k) : 0;
    }

    /// <inheritdoc/>
    public override int UserLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        if (!UserCanRead)
        {
            return -Errno.EPERM;
        }

        ulong addr = Lookup(key, 0);
        if (addr == 0)
        {
            return -Errno.ENOENT;
        }

        new ReadOnlySpan<byte>((void*)addr, (int)Spec.ValueSize).CopyTo(value);
        return 0;
    }

    /// <inheritdoc/>
    public override int UserUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        // kernel: __dev_map_update_elem
        if (!UserCanWrite)
        {
            return -Errno.EPERM;
        }

        if (flags > MapUpdateFlags.Exist)
        {
            return -Errno.EINVAL;
        }

        uint k = MapValue.U32(key);
        if (k >= (uint)_present.Length)
        {
            return -Errno.E2BIG;
        }

        if (flags == MapUpdateFlags.NoExist)
        {
            return -Errno.EEXIST;
        }

        var (ifindex, fd) = DevMapValue.Parse(value, (int)Spec.ValueSize);
        object? prog = null;
        if (ifindex == 0)
        {
            if (fd > 0)
            {
                return -Errno.EINVAL;
            }
        }
        else if (fd > 0)
        {
            prog = ProgramResolver?.Invoke((uint)fd);
            if (prog is null)
            {
                return -Errno.EINVAL;
            }
        }

        return Store(k, ifindex, prog, prog is null ? 0 : (uint)fd);
    }

    /// <inheritdoc/>
    public override int UserDelete(ReadOnlySpan<byte> key)
    {
        // kernel: dev_map_delete_elem
        if (!UserCanWrite)
        {
            return -Errno.EPERM;
        }

        uint k = MapValue.U32(key);
        if (k >= (uint)_present.Length)
        {
            return -Errno.EINVAL;
        }

        Clear(k);
        return 0;
    }

    /// <inheritdoc/>
    public override int GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) =>
        UserCanRead ? ArrayKeys.GetNext(key, nextKey, (uint)_present.Length) : -Errno.EPERM;

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _vals.Dispose();
        }

        base.Dispose(disposing);
    }

    private int Store(uint k, uint ifindex, object? program, uint programId)
    {
        if (ifindex == 0)
        {
            Clear(k);
            return 0;
        }

        if (!DevMapValue.TryFindDevice(DeviceResolver, ifindex, out var device))
        {
            return -Errno.EINVAL;
        }

        if (!_present[k])
        {
            Count++;
        }

        _present[k] = true;
        _programs[k] = program;
        _devices[k] = device;
        DevMapValue.Write(_vals.Slice(8UL * k, 8), ifindex, program is null ? 0 : programId);
        return 0;
    }

    private void Clear(uint k)
    {
        if (_present[k])
        {
            Count--;
        }

        _present[k] = false;
        _programs[k] = null;
        _devices[k] = null;
        _vals.Slice(8UL * k, 8).Clear();
    }
}

/// <summary>BPF_MAP_TYPE_DEVMAP_HASH (kernel/bpf/devmap.c): device targets keyed by any u32.</summary>
/// <remarks>
/// Values and checks as <see cref="DevMap"/>, except: the key is any u32; buckets are key &amp; (n_buckets - 1) with
/// n_buckets = roundup_pow_of_two(max_entries), newest first (so get_next_key walks the kernel's order); BPF_NOEXIST
/// on a present key is -EEXIST; BPF_EXIST on a missing key inserts it (the kernel does not check); ifindex 0 is
/// -EINVAL (no device 0); a new key when max_entries are present is -E2BIG; deleting a missing key is -ENOENT.
/// </remarks>
public sealed unsafe class DevMapHash : BpfMap
{
    private readonly NativeBlock _vals;
    private readonly uint[] _keys;
    private readonly int[] _next;
    private readonly int[] _buckets;
    private readonly object?[] _programs;
    private readonly INetDevice?[] _devices;
    private readonly int[] _free;
    private readonly uint _mask;
    private readonly MemoryRegion[] _regions;
    private int _freeCount;

    internal DevMapHash(MapSpec spec, int possibleCpus)
        : base(spec, possibleCpus)
    {
        int max = (int)spec.MaxEntries;
        uint buckets = System.Numerics.BitOperations.RoundUpToPowerOf2(spec.MaxEntries);
        _mask = buckets - 1;
        _buckets = new int[buckets];
        Array.Fill(_buckets, -1);
        _vals = new NativeBlock(8UL * (ulong)max);
        _keys = new uint[max];
        _next = new int[max];
        _programs = new object?[max];
        _devices = new INetDevice?[max];
        _free = new int[max];
        for (int i = max - 1; i >= 0; i--)
        {
            _free[_freeCount++] = i;
        }

        _regions = [new MemoryRegion(_vals.Address, _vals.Length, RegionKind.MapValue, false, "map " + Name + " values")];
    }

    /// <summary>Finds devices by ifindex; null accepts every ifindex from 1 to INT_MAX.</summary>
    public INetDeviceResolver? DeviceResolver { get; set; }

    /// <summary>Turns bpf_devmap_val.bpf_prog.fd (the runtime's program "fd") into a devmap program, or null.</summary>
    public Func<uint, object?>? ProgramResolver { get; set; }

    /// <inheritdoc/>
    public override IReadOnlyList<MemoryRegion> ValueRegions => _regions;

    /// <summary>Number of entries (dtab->items).</summary>
    public int Count { get; private set; }

    /// <summary>__dev_map_hash_lookup_elem for bpf_redirect_map: the ifindex stored under <paramref name="key"/>.</summary>
    public bool TryGetRedirectTarget(uint key, out uint ifindex)
    {
        int slot = Find(key);
        ifindex = slot < 0 ? 0 : *(uint*)(_vals.Pointer + (8UL * (ulong)slot));
        return slot >= 0;
    }

    /// <summary>The entry under <paramref name="key"/>.</summary>
    public bool TryGetEntry(uint key, out DevMapEntry entry)
    {
        int slot = Find(key);
        entry = slot < 0 ? default : Entry(slot);
        return slot >= 0;
    }

    /// <summary>The devmap program attached under <paramref name="key"/>, or null.</summary>
    public object? GetProgram(uint key)
    {
        int slot = Find(key);
        return slot < 0 ? null : _programs[slot];
    }

    /// <summary>Copies the entries in bucket order into <paramref name="destination"/> (for BPF_F_BROADCAST); returns
    /// how many were copied.</summary>
    public int CopyEntries(Span<DevMapEntry> destination)
    {
        int n = 0;
        for (int b = 0; b < _buckets.Length; b++)
        {
            for (int s = _buckets[b]; s >= 0 && n < destination.Length; s = _next[s])
            {
                destination[n++] = Entry(s);
            }
        }

        return n;
    }

    /// <summary>Stores a target directly (a program object instead of an fd); the same checks as an update with BPF_ANY.</summary>
    public int SetTarget(uint key, uint ifindex, object? program = null, uint programId = 0) =>
        Store(key, ifindex, program, programId, MapUpdateFlags.Any);

    /// <inheritdoc/>
    public override ulong Lookup(ReadOnlySpan<byte> key, int cpu)
    {
        int slot = Find(MapValue.U32(key));
        return slot < 0 ? 0 : _vals.Address + (8UL * (ulong)slot);
    }

    /// <inheritdoc/>
    public override int UserLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        if (!UserCanRead)
        {
            return -Errno.EPERM;
        }

        ulong addr = Lookup(key, 0);
        if (addr == 0)
        {
            return -Errno.ENOENT;
        }

        new ReadOnlySpan<byte>((void*)addr, (int)Spec.ValueSize).CopyTo(value);
        return 0;
    }

    /// <inheritdoc/>
    public override int UserUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        // kernel: __dev_map_hash_update_elem
        if (!UserCanWrite)
        {
            return -Errno.EPERM;
        }

        if (flags > MapUpdateFlags.Exist)
        {
            return -Errno.EINVAL;
        }

        uint k = MapValue.U32(key);
        var (ifindex, fd) = DevMapValue.Parse(value, (int)Spec.ValueSize);
        object? prog = null;
        if (ifindex != 0 && fd > 0)
        {
            prog = ProgramResolver?.Invoke((uint)fd);
            if (prog is null)
            {
                return Find(k) >= 0 && flags == MapUpdateFlags.NoExist ? -Errno.EEXIST : -Errno.EINVAL;
            }
        }

        return Store(k, ifindex, prog, prog is null ? 0 : (uint)fd, flags);
    }

    /// <inheritdoc/>
    public override int UserDelete(ReadOnlySpan<byte> key)
    {
        // kernel: dev_map_hash_delete_elem
        if (!UserCanWrite)
        {
            return -Errno.EPERM;
        }

        uint k = MapValue.U32(key);
        int slot = Find(k);
        if (slot < 0)
        {
            return -Errno.ENOENT;
        }

        Unlink(k, slot);
        _programs[slot] = null;
        _devices[slot] = null;
        _free[_freeCount++] = slot;
        Count--;
        return 0;
    }

    /// <inheritdoc/>
    public override int GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        // kernel: dev_map_hash_get_next_key
        if (!UserCanRead)
        {
            return -Errno.EPERM;
        }

        int i = 0;
        if (key.Length >= 4)
        {
            uint k = MapValue.U32(key);
            int slot = Find(k);
            if (slot >= 0)
            {
                if (_next[slot] >= 0)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(nextKey, _keys[_next[slot]]);
                    return 0;
                }

                i = (int)(k & _mask) + 1;
            }
        }

        for (; i < _buckets.Length; i++)
        {
            if (_buckets[i] >= 0)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(nextKey, _keys[_buckets[i]]);
                return 0;
            }
        }

        return -Errno.ENOENT;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _vals.Dispose();
        }

        base.Dispose(disposing);
    }

    private DevMapEntry Entry(int slot) =>
        new(_keys[slot], *(uint*)(_vals.Pointer + (8UL * (ulong)slot)), _devices[slot], _programs[slot]);

    private int Find(uint key)
    {
        for (int s = _buckets[key & _mask]; s >= 0; s = _next[s])
        {
            if (_keys[s] == key)
            {
                return s;
            }
        }

        return -1;
    }

    private void Unlink(uint key, int slot)
    {
        ref int link = ref _buckets[key & _mask];
        while (link != slot)
        {
            link = ref _next[link];
        }

        link = _next[slot];
    }

    private int Store(uint k, uint ifindex, object? program, uint programId, ulong flags)
    {
        int old = Find(k);
        if (old >= 0 && (flags & MapUpdateFlags.NoExist) != 0)
        {
            return -Errno.EEXIST;
        }

        if (ifindex == 0 || !DevMapValue.TryFindDevice(DeviceResolver, ifindex, out var device))
        {
            return -Errno.EINVAL;
        }

        int slot;
        if (old >= 0)
        {
            // the kernel links a new entry first in the bucket and drops the old one; we reuse the old slot
            Unlink(k, old);
            slot = old;
        }
        else
        {
            if (Count >= (int)Spec.MaxEntries)
            {
                return -Errno.E2BIG;
            }

            slot = _free[--_freeCount];
            Count++;
        }

        _keys[slot] = k;
        _programs[slot] = program;
        _devices[slot] = device;
        DevMapValue.Write(_vals.Slice(8UL * (ulong)slot, 8), ifindex, program is null ? 0 : programId);
        ref int head = ref _buckets[k & _mask];
        _next[slot] = head;
        head = slot;
        return 0;
    }
}

/// <summary>struct bpf_devmap_val / bpf_cpumap_val helpers.</summary>
internal static class DevMapValue
{
    /// <summary>The first u32 (ifindex or qsize) and, for 8-byte values, the program fd.</summary>
    public static (uint First, int Fd) Parse(ReadOnlySpan<byte> value, int valueSize)
    {
        uint first = BinaryPrimitives.ReadUInt32LittleEndian(value);
        int fd = valueSize >= 8 ? BinaryPrimitives.ReadInt32LittleEndian(value.Slice(4)) : 0;
        return (first, fd);
    }

    /// <summary>Writes { first, prog id }.</summary>
    public static void Write(Span<byte> dst, uint first, uint progId)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(dst, first);
        BinaryPrimitives.WriteUInt32LittleEndian(dst.Slice(4), progId);
    }

    /// <summary>dev_get_by_index: through the resolver, or any ifindex in 1..INT_MAX without one.</summary>
    public static bool TryFindDevice(INetDeviceResolver? resolver, uint ifindex, out INetDevice? device)
    {
        if (resolver is null)
        {
            device = null;
            return ifindex is > 0 and <= int.MaxValue;
        }

        device = ifindex <= int.MaxValue ? resolver.Find((int)ifindex) : null;
        return device is not null;
    }
}
