using VethXdp.Vm.Memory;

namespace VethXdp.Vm.Maps;

/// <summary>BPF_MAP_TYPE_HASH, PERCPU_HASH, LRU_HASH and LRU_PERCPU_HASH (kernel/bpf/hashtab.c, bpf_lru_list.c).</summary>
/// <remarks>
/// <para>Preallocated as the kernel does by default: max_entries elements (plus, for HASH, one spare per CPU) whose
/// values live in one native block at fixed addresses, round_up(value_size, 8) bytes each (per-CPU maps: one such
/// value per possible CPU, CPU-major: each CPU's run of values starts on its own 64-byte cache line, so simulated CPUs
/// on different threads never share one; user-side values stay packed). BPF_F_NO_PREALLOC maps are preallocated too; the kernel's answers are the same (-E2BIG
/// when max_entries elements exist), only the memory differs.</para>
/// <para>Buckets and order follow the kernel: n_buckets = roundup_pow_of_two(max_entries), bucket = jhash(key,
/// seed) &amp; (n_buckets - 1), newest element first in its bucket, so <see cref="GetNextKey"/> walks the kernel's
/// order when the kernel's seed is 0 (BPF_F_ZERO_SEED); we always use seed 0, the kernel a random one otherwise.</para>
/// <para>Updates as the kernel does them: HASH replaces an element by taking this CPU's spare, linking it first in
/// the bucket and keeping the old element as the new spare (a pointer a program kept reads the old value until the
/// spare is reused); per-CPU maps update in place; LRU maps take a node from the LRU first (see <see cref="BpfLru"/>),
/// which may evict, and return -ENOMEM when none can be had. Lookups from programs mark LRU elements referenced;
/// user-side lookups do not. One simulated CPU at a time: no locking.</para>
/// </remarks>
public sealed unsafe class HashMap : BpfMap, ILruOwner
{
    private readonly HashTable _table;
    private readonly BpfLru? _lru;
    private readonly NativeBlock _values;
    private readonly bool _percpu;
    private readonly int _keySize;
    private readonly int _valueSize;
    private readonly int _stride;
    private readonly int _copies;
    private readonly ulong _cpuStride;
    private readonly int[]? _extra;
    private readonly MemoryRegion[] _regions;
    private readonly ObjectArena? _objects;

    // The lookup path's constants, kept flat so a helper call loads fields of this object only: the values' base
    // address, the element stride, the per-CPU stride a program lookup adds (0 unless per-CPU) and the CPU count.
    private readonly ulong _valuesBase;
    private readonly ulong _slotStride;
    private readonly ulong _lookupCpuStride;
    private readonly uint _possibleCpus;

    // The update path's constants from the (immutable) spec: the map type, bpf_spin_lock's offset, kptr fields.
    private readonly MapType _type;
    private readonly int _spinLockOffset;
    private readonly bool _hasKptrs;

    internal HashMap(MapSpec spec, int possibleCpus)
        : base(spec, possibleCpus)
    {
        bool lru = spec.Type is MapType.LruHash or MapType.LruPercpuHash;
        _percpu = spec.Type is MapType.PercpuHash or MapType.LruPercpuHash;
        bool hasExtra = !_percpu && !lru;
        _keySize = (int)spec.KeySize;
        _valueSize = (int)spec.ValueSize;
        _stride = MapValue.RoundUp8(_valueSize);
        _copies = _percpu ? possibleCpus : 1;
        int slots = checked((int)spec.MaxEntries + (hasExtra ? possibleCpus : 0));
        _table = new HashTable(_keySize, slots, spec.MaxEntries, 0);
        ulong run = (ulong)_stride * (ulong)slots;
        _cpuStride = _percpu ? CacheLine.RoundUp(run) : run;
        _values = new NativeBlock(_cpuStride * (ulong)_copies);
        _valuesBase = _values.Address;
        _slotStride = (ulong)_stride;
        _lookupCpuStride = _percpu ? _cpuStride : 0;
        _possibleCpus = (uint)possibleCpus;
        _type = spec.Type;
        _spinLockOffset = spec.SpinLockOffset;
        _hasKptrs = spec.KptrFields.Count != 0;
        if (lru)
        {
            _lru = new BpfLru(slots, possibleCpus, (spec.Flags & MapFlags.NoCommonLru) != 0, this);
        }
        else
        {
            _table.FillFreeList();
            if (hasExtra)
            {
                // alloc_extra_elems: one spare element per CPU
                _extra = new int[possibleCpus];
                for (int c = 0; c < possibleCpus; c++)
                {
                    _extra[c] = _table.PopFree();
                }
            }
        }

        bool writable = (spec.Flags & MapFlags.RdonlyProg) == 0 && !spec.Frozen;
        var values = new MemoryRegion(_values.Address, _values.Length, RegionKind.MapValue, writable, "map " + Name + " values");
        if (spec.KptrFields.Count != 0)
        {
            _objects = new ObjectArena(spec.Name);
        }

        _regions = _objects is null ? [values] : [values, _objects.Region];
    }

    /// <inheritdoc/>
    public override IReadOnlyList<MemoryRegion> ValueRegions => _regions;

    /// <inheritdoc/>
    public override ObjectArena? Objects => _objects;

    /// <summary>Number of elements in the map.</summary>
    public int Count => _table.Count;

    /// <inheritdoc/>
    public override int UserValueSize => _percpu ? _stride * PossibleCpus : _valueSize;

    /// <inheritdoc/>
    public override ulong Lookup(ReadOnlySpan<byte> key, int cpu)
    {
        // kernel: __htab_map_lookup_elem (+ bpf_lru_node_set_ref for LRU maps, + this_cpu_ptr for per-CPU ones)
        if ((uint)cpu >= _possibleCpus)
        {
            return 0;
        }

        int slot = _table.Find(key);
        if (slot < 0)
        {
            return 0;
        }

        _lru?.SetRef(slot);
        return _valuesBase + ((ulong)(uint)cpu * _lookupCpuStride) + ((ulong)(uint)slot * _slotStride);
    }

    /// <inheritdoc/>
    public override long Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, int cpu)
    {
        if ((uint)cpu >= (uint)PossibleCpus)
        {
            return -Errno.EINVAL;
        }

        return UpdateCore(key.Slice(0, _keySize), value, flags, cpu, onAllCpus: false);
    }

    /// <inheritdoc/>
    public override long Delete(ReadOnlySpan<byte> key)
    {
        // kernel: htab_map_delete_elem / htab_lru_map_delete_elem
        int slot = _table.Find(key);
        if (slot < 0)
        {
            return -Errno.ENOENT;
        }

        _table.Unlink(slot);
        FreeElement(slot);
        return 0;
    }

    /// <inheritdoc/>
    public override int UserLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        if (!UserCanRead)
        {
            return -Errno.EPERM;
        }

        // kernel: htab_lru_map_lookup_elem_sys does not mark the element referenced
        int slot = _table.Find(key);
        if (slot < 0)
        {
            return -Errno.ENOENT;
        }

        CopyOut(slot, value);
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

        return (int)UpdateCore(key.Slice(0, _keySize), value, flags, UserCpu, onAllCpus: _percpu);
    }

    /// <inheritdoc/>
    public override int UserDelete(ReadOnlySpan<byte> key) => UserCanWrite ? (int)Delete(key) : -Errno.EPERM;

    /// <inheritdoc/>
    public override int UserLookupAndDelete(ReadOnlySpan<byte> key, Span<byte> value)
    {
        // kernel: __htab_map_lookup_and_delete_elem
        if (!UserCanRead || !UserCanWrite)
        {
            return -Errno.EPERM;
        }

        int slot = _table.Find(key);
        if (slot < 0)
        {
            return -Errno.ENOENT;
        }

        CopyOut(slot, value);
        _table.Unlink(slot);
        FreeElement(slot);
        return 0;
    }

    /// <inheritdoc/>
    public override int GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) =>
        UserCanRead ? _table.GetNextKey(key.IsEmpty ? key : key.Slice(0, _keySize), nextKey) : -Errno.EPERM;

    bool ILruOwner.DeleteFromHtab(int node)
    {
        // kernel: htab_lru_map_delete_node
        if (!_table.IsLinked(node))
        {
            return false;
        }

        _table.Unlink(node);
        FreeKptrs(node);
        return true;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (Spec.KptrFields.Count != 0)
            {
                // kernel: htab_map_free() -> bpf_obj_free_fields() on every element
                for (int slot = 0; slot < _table.Capacity; slot++)
                {
                    FreeKptrs(slot);
                }
            }

            _objects?.Dispose();
            _values.Dispose();
        }

        base.Dispose(disposing);
    }

    // kernel: bpf_obj_free_fields() on every CPU's copy of an element that goes away or is replaced.
    private void FreeKptrs(int slot)
    {
        if (!_hasKptrs)
        {
            return;
        }

        for (int c = 0; c < _copies; c++)
        {
            MapValue.FreeKptrs(ValueAddress(slot, c), Spec);
        }
    }

    // A new element's kptr fields start NULL: copy_map_value() does not copy them from the update.
    private void ClearKptrs(int slot)
    {
        if (_hasKptrs)
        {
            MapValue.ClearKptrs(ValueAddress(slot, 0), Spec);
        }
    }

    private void CopyKeepingKptrs(int slot, ReadOnlySpan<byte> value)
    {
        var kptrs = Spec.KptrFields;
        ulong addr = ValueAddress(slot, 0);
        // kernel: BTF_FIELDS_MAX (11) special fields at most in a value
        Span<ulong> saved = stackalloc ulong[11];
        int n = Math.Min(kptrs.Count, saved.Length);
        for (int i = 0; i < n; i++)
        {
            saved[i] = *(ulong*)(addr + (ulong)kptrs[i].Offset);
        }

        MapValue.Copy(ValueSpan(slot, 0, _valueSize), value, Spec.SpinLockOffset);
        for (int i = 0; i < n; i++)
        {
            *(ulong*)(addr + (ulong)kptrs[i].Offset) = saved[i];
        }
    }

    private ulong ValueAddress(int slot, int cpu) =>
        _valuesBase + ((ulong)cpu * _cpuStride) + ((ulong)slot * _slotStride);

    private Span<byte> ValueSpan(int slot, int cpu, int length) => new((void*)ValueAddress(slot, cpu), length);

    private static int CheckFlags(int old, ulong flags)
    {
        // kernel: check_flags
        ulong f = flags & ~MapUpdateFlags.Lock;
        if (old >= 0 && f == MapUpdateFlags.NoExist)
        {
            return -Errno.EEXIST;
        }

        if (old < 0 && f == MapUpdateFlags.Exist)
        {
            return -Errno.ENOENT;
        }

        return 0;
    }

    private long UpdateCore(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, int cpu, bool onAllCpus) =>
        _type switch
        {
            MapType.Hash => HtabUpdate(key, value, flags, cpu),
            MapType.PercpuHash => PercpuUpdate(key, value, flags, cpu, onAllCpus),
            MapType.LruHash => LruUpdate(key, value, flags, cpu),
            _ => LruPercpuUpdate(key, value, flags, cpu, onAllCpus),
        };

    private long HtabUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, int cpu)
    {
        // kernel: htab_map_update_elem
        if ((flags & ~MapUpdateFlags.Lock) > MapUpdateFlags.Exist)
        {
            return -Errno.EINVAL;
        }

        uint hash = _table.Hash(key);
        int old = _table.Find(key, hash);
        if ((flags & MapUpdateFlags.Lock) != 0)
        {
            if (_spinLockOffset < 0)
            {
                return -Errno.EINVAL;
            }

            int rc = CheckFlags(old, flags);
            if (rc != 0)
            {
                return rc;
            }

            if (old >= 0)
            {
                // copy_map_value_locked: in place, under the element's lock, around the special fields
                CopyKeepingKptrs(old, value.Slice(0, _valueSize));
                return 0;
            }
        }

        int ret = CheckFlags(old, flags);
        if (ret != 0)
        {
            return ret;
        }

        int slot;
        if (old >= 0)
        {
            // alloc_htab_elem with old_elem: use this CPU's spare, the old element becomes the spare
            slot = _extra![cpu];
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

        MapValue.Copy(ValueSpan(slot, 0, _valueSize), value.Slice(0, _valueSize), _spinLockOffset);
        ClearKptrs(slot);
        _table.LinkHead(slot, key, hash);
        if (old >= 0)
        {
            // kernel: free_htab_elem() -> check_and_free_fields(): the replaced element's objects are freed
            FreeKptrs(old);
            _table.Unlink(old);
        }

        return 0;
    }

    private long PercpuUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, int cpu, bool onAllCpus)
    {
        // kernel: __htab_percpu_map_update_elem
        if (flags > MapUpdateFlags.Exist)
        {
            return -Errno.EINVAL;
        }

        uint hash = _table.Hash(key);
        int old = _table.Find(key, hash);
        int ret = CheckFlags(old, flags);
        if (ret != 0)
        {
            return ret;
        }

        if (old >= 0)
        {
            PcpuCopy(old, value, cpu, onAllCpus);
            return 0;
        }

        int slot = _table.PopFree();
        if (slot < 0)
        {
            return -Errno.E2BIG;
        }

        PcpuInit(slot, value, cpu, onAllCpus);
        _table.LinkHead(slot, key, hash);
        return 0;
    }

    private long LruUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, int cpu)
    {
        // kernel: htab_lru_map_update_elem: the node is taken (maybe evicting) before the key is looked up
        if (flags > MapUpdateFlags.Exist)
        {
            return -Errno.EINVAL;
        }

        uint hash = _table.Hash(key);
        int node = _lru!.PopFree(cpu);
        if (node < 0)
        {
            return -Errno.ENOMEM;
        }

        MapValue.Copy(ValueSpan(node, 0, _valueSize), value.Slice(0, _valueSize), _spinLockOffset);
        ClearKptrs(node);
        int old = _table.Find(key, hash);
        int ret = CheckFlags(old, flags);
        if (ret != 0)
        {
            _lru.PushFree(node);
            return ret;
        }

        _table.LinkHead(node, key, hash);
        if (old >= 0)
        {
            _lru.SetRef(node);
            _table.Unlink(old);
            FreeKptrs(old);
            _lru.PushFree(old);
        }

        return 0;
    }

    private long LruPercpuUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, int cpu, bool onAllCpus)
    {
        // kernel: __htab_lru_percpu_map_update_elem: no node is taken for BPF_EXIST
        if (flags > MapUpdateFlags.Exist)
        {
            return -Errno.EINVAL;
        }

        uint hash = _table.Hash(key);
        int node = -1;
        if (flags != MapUpdateFlags.Exist)
        {
            node = _lru!.PopFree(cpu);
            if (node < 0)
            {
                return -Errno.ENOMEM;
            }
        }

        int old = _table.Find(key, hash);
        int ret = CheckFlags(old, flags);
        if (ret == 0)
        {
            if (old >= 0)
            {
                _lru!.SetRef(old);
                PcpuCopy(old, value, cpu, onAllCpus);
            }
            else
            {
                PcpuInit(node, value, cpu, onAllCpus);
                _table.LinkHead(node, key, hash);
                node = -1;
            }
        }

        if (node >= 0)
        {
            _lru!.PushFree(node);
        }

        return ret;
    }

    private void PcpuCopy(int slot, ReadOnlySpan<byte> value, int cpu, bool onAllCpus)
    {
        // kernel: pcpu_copy_value
        if (!onAllCpus)
        {
            MapValue.Copy(ValueSpan(slot, cpu, _valueSize), value.Slice(0, _valueSize), _spinLockOffset);
            return;
        }

        for (int c = 0; c < PossibleCpus; c++)
        {
            value.Slice(c * _stride, _stride).CopyTo(ValueSpan(slot, c, _stride));
        }
    }

    private void PcpuInit(int slot, ReadOnlySpan<byte> value, int cpu, bool onAllCpus)
    {
        // kernel: pcpu_init_value: a program's update sets this CPU's value and zeroes the others
        if (onAllCpus)
        {
            PcpuCopy(slot, value, cpu, true);
            return;
        }

        for (int c = 0; c < PossibleCpus; c++)
        {
            var dst = ValueSpan(slot, c, _stride);
            dst.Clear();
            if (c == cpu)
            {
                value.Slice(0, _valueSize).CopyTo(dst);
            }
        }
    }

    private void CopyOut(int slot, Span<byte> value)
    {
        if (!_percpu)
        {
            ValueSpan(slot, 0, _valueSize).CopyTo(value);
            MapValue.HideSpecialFields(value.Slice(0, _valueSize), Spec);
            return;
        }

        for (int c = 0; c < PossibleCpus; c++)
        {
            ValueSpan(slot, c, _stride).CopyTo(value.Slice(c * _stride, _stride));
        }
    }

    private void FreeElement(int slot)
    {
        FreeKptrs(slot);
        if (_lru is not null)
        {
            _lru.PushFree(slot);
        }
        else
        {
            _table.PushFree(slot);
        }
    }
}
