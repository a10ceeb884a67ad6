using VethXdp.Vm.Maps;
using VethXdp.Vm.Memory;

namespace VethXdp.Vm.Helpers;

/// <summary>BPF_MAP_TYPE_TASK_STORAGE and BPF_MAP_TYPE_CGRP_STORAGE (kernel/bpf/bpf_local_storage.c,
/// bpf_task_storage.c, bpf_cgrp_storage.c): one value per owner (a task, a cgroup), created on demand by
/// bpf_task_storage_get / bpf_cgrp_storage_get with BPF_LOCAL_STORAGE_GET_F_CREATE.</summary>
/// <remarks>
/// The owners are the kernel objects the VM has: the current task of each run (<see cref="ProcessState"/>); it has
/// no cgroup objects, so a cgroup storage map stays empty. Values live at stable addresses in one block with room for
/// <see cref="Capacity"/> owners. User space names an owner by a file descriptor (a pidfd or a cgroup fd); there are
/// no descriptors here, so bpf() lookups, updates and deletes give -EBADF, and like the kernel's these maps have no
/// get_next_key (-ENOTSUPP), so dumps list nothing.
/// </remarks>
public sealed class LocalStorageMap : BpfMap
{
    /// <summary>Owners one map holds values for.</summary>
    public const int Capacity = 64;

    /// <summary>BPF_LOCAL_STORAGE_MAX_VALUE_SIZE: U16_MAX - sizeof(struct bpf_local_storage_elem) (128 on the
    /// reference kernel).</summary>
    public const uint MaxValueSize = ushort.MaxValue - 128;

    /// <summary>BPF_F_NO_PREALLOC | BPF_F_CLONE: the flags a local storage map takes (it must have BPF_F_NO_PREALLOC).</summary>
    private const uint CreateFlags = MapFlags.NoPrealloc | MapFlags.Clone;

    private readonly NativeBlock _values;
    private readonly ulong[] _owners = new ulong[Capacity];
    private readonly int _stride;
    private readonly MemoryRegion[] _regions;

    /// <summary>Creates the map, checking the definition as bpf_local_storage_map_alloc_check() does.</summary>
    /// <exception cref="MapCreateException">The kernel would refuse the definition (-EINVAL, or -E2BIG for a value
    /// above <see cref="MaxValueSize"/>).</exception>
    public LocalStorageMap(MapSpec spec, int possibleCpus)
        : base(spec, possibleCpus)
    {
        if (spec.Type is not (MapType.TaskStorage or MapType.CgrpStorage))
        {
            throw new MapCreateException(spec.Name, "not a task or cgroup storage map", Errno.EINVAL);
        }

        if ((spec.Flags & ~CreateFlags) != 0 || (spec.Flags & MapFlags.NoPrealloc) == 0)
        {
            throw new MapCreateException(spec.Name, "map_flags must be BPF_F_NO_PREALLOC (and optionally BPF_F_CLONE)", Errno.EINVAL);
        }

        if (spec.MaxEntries != 0 || spec.KeySize != sizeof(int) || spec.ValueSize == 0)
        {
            throw new MapCreateException(spec.Name, "local storage needs max_entries 0, key_size 4 and a value", Errno.EINVAL);
        }

        if (spec.ValueSize > MaxValueSize)
        {
            throw new MapCreateException(spec.Name, $"value_size {spec.ValueSize} is above {MaxValueSize}", Errno.E2BIG);
        }

        _stride = (int)((spec.ValueSize + 7) & ~7u);
        _values = new NativeBlock((ulong)_stride * Capacity);
        _regions = [new MemoryRegion(_values.Address, (ulong)_stride * Capacity, RegionKind.MapValue, Writable: true, spec.Name)];
    }

    /// <inheritdoc/>
    public override IReadOnlyList<MemoryRegion> ValueRegions => _regions;

    /// <summary>Owners that have a value.</summary>
    public int Count
    {
        get
        {
            int n = 0;
            foreach (ulong owner in _owners)
            {
                n += owner != 0 ? 1 : 0;
            }

            return n;
        }
    }

    /// <summary>The value of <paramref name="owner"/> (its address), creating it when <paramref name="create"/>:
    /// a copy of <paramref name="initial"/>, or zeros when that is empty. 0 when absent (or when no room is left).</summary>
    public ulong Get(ulong owner, ReadOnlySpan<byte> initial, bool create)
    {
        int free = -1;
        for (int i = 0; i < Capacity; i++)
        {
            if (_owners[i] == owner)
            {
                return _values.Address + ((ulong)i * (ulong)_stride);
            }

            if (free < 0 && _owners[i] == 0)
            {
                free = i;
            }
        }

        if (!create || free < 0 || owner == 0)
        {
            return 0;
        }

        _owners[free] = owner;
        var value = _values.Slice((ulong)free * (ulong)_stride, (int)Spec.ValueSize);
        value.Clear();
        if (!initial.IsEmpty)
        {
            initial[..Math.Min(initial.Length, value.Length)].CopyTo(value);
        }

        return _values.Address + ((ulong)free * (ulong)_stride);
    }

    /// <summary>Deletes <paramref name="owner"/>'s value: 0, or -ENOENT when it has none.</summary>
    public int Remove(ulong owner)
    {
        for (int i = 0; i < Capacity; i++)
        {
            if (owner != 0 && _owners[i] == owner)
            {
                _owners[i] = 0;
                return 0;
            }
        }

        return -Errno.ENOENT;
    }

    /// <inheritdoc/>
    /// <remarks>Programs reach these maps through the storage helpers only (the verifier refuses
    /// bpf_map_lookup_elem on them): NULL.</remarks>
    public override ulong Lookup(ReadOnlySpan<byte> key, int cpu) => 0;

    /// <inheritdoc/>
    public override int UserLookup(ReadOnlySpan<byte> key, Span<byte> value) => -Errno.EBADF;

    /// <inheritdoc/>
    public override int UserUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags) => -Errno.EBADF;

    /// <inheritdoc/>
    public override int UserDelete(ReadOnlySpan<byte> key) => -Errno.EBADF;

    /// <inheritdoc/>
    public override int GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) => -Errno.ENOTSUPP;

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _values.Dispose();
        }

        base.Dispose(disposing);
    }
}
