using VethXdp.Vm.Maps;
using VethXdp.Vm.Memory;

namespace VethXdp.Vm.Tests.Runtime;

/// <summary>A managed stand-in for the real map types with the user-side behaviour MapsJson relies on: arrays
/// (zero-filled, every index a key), fd arrays (empty slots give -ENOENT, every index a key), hashes (insertion
/// order, -E2BIG when full), per-CPU values (rounded to 8 per CPU), queues and stacks.</summary>
internal sealed class FakeMap : BpfMap
{
    private readonly List<(byte[] Key, byte[] Value)> _hash = [];
    private readonly byte[]?[] _slots;
    private readonly List<byte[]> _queue = [];

    public FakeMap(string name, MapType type, uint keySize, uint valueSize, uint maxEntries, int cpus = 1)
        : base(new MapSpec { Name = name, Type = type, KeySize = keySize, ValueSize = valueSize, MaxEntries = maxEntries }, cpus)
    {
        _slots = IsArrayLike ? new byte[]?[maxEntries] : [];
        if (Type is MapType.Array or MapType.PercpuArray)
        {
            for (int i = 0; i < _slots.Length; i++)
            {
                _slots[i] = new byte[UserValueSize];
            }
        }
    }

    public int UpdateCalls { get; private set; }

    public override IReadOnlyList<MemoryRegion> ValueRegions => [];

    public override int UserValueSize => MapTypeNames.IsPerCpu(Type) ? (int)((Spec.ValueSize + 7) & ~7u) * PossibleCpus : (int)Spec.ValueSize;

    private bool IsArrayLike => Type is MapType.Array or MapType.PercpuArray or MapType.ProgArray or MapType.Devmap or MapType.Cpumap
        or MapType.ArrayOfMaps or MapType.Xskmap or MapType.PerfEventArray;

    public override ulong Lookup(ReadOnlySpan<byte> key, int cpu) => 0;

    public override int UserLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        if (IsArrayLike)
        {
            uint i = BitConverter.ToUInt32(key);
            if (i >= _slots.Length || _slots[i] is null)
            {
                return -Errno.ENOENT;
            }

            _slots[i].CopyTo(value);
            return 0;
        }

        int at = Find(key);
        if (at < 0)
        {
            return -Errno.ENOENT;
        }

        _hash[at].Value.CopyTo(value);
        return 0;
    }

    public override int UserUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        UpdateCalls++;
        if (Type is MapType.Queue or MapType.Stack or MapType.BloomFilter)
        {
            return (int)Push(value, flags);
        }

        if (IsArrayLike)
        {
            uint i = BitConverter.ToUInt32(key);
            if (i >= _slots.Length)
            {
                return -Errno.E2BIG;
            }

            _slots[i] = value.ToArray();
            return 0;
        }

        int at = Find(key);
        if (at >= 0)
        {
            _hash[at] = (_hash[at].Key, value.ToArray());
            return 0;
        }

        if (_hash.Count >= Spec.MaxEntries)
        {
            return -Errno.E2BIG;
        }

        _hash.Add((key.ToArray(), value.ToArray()));
        return 0;
    }

    public override int GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        if (IsArrayLike)
        {
            uint next = key.IsEmpty ? 0 : BitConverter.ToUInt32(key) + 1;
            if (next >= _slots.Length)
            {
                return -Errno.ENOENT;
            }

            BitConverter.TryWriteBytes(nextKey, next);
            return 0;
        }

        int at = key.IsEmpty ? 0 : Find(key) + 1;
        if (at >= _hash.Count)
        {
            return -Errno.ENOENT;
        }

        _hash[at].Key.CopyTo(nextKey);
        return 0;
    }

    public override IEnumerable<(byte[] Key, byte[] Value)> Entries()
    {
        if (Type is MapType.Queue or MapType.Stack)
        {
            var values = Type == MapType.Stack ? Enumerable.Reverse(_queue) : _queue;
            return values.Select(v => (Array.Empty<byte>(), (byte[])v.Clone())).ToList();
        }

        return Type is MapType.BloomFilter or MapType.Ringbuf or MapType.PerfEventArray ? [] : base.Entries();
    }

    public override long Push(ReadOnlySpan<byte> value, ulong flags)
    {
        if (_queue.Count >= Spec.MaxEntries)
        {
            return -Errno.E2BIG;
        }

        _queue.Add(value.ToArray());
        return 0;
    }

    public override long Pop(Span<byte> value)
    {
        if (_queue.Count == 0)
        {
            return -Errno.ENOENT;
        }

        int at = Type == MapType.Stack ? _queue.Count - 1 : 0;
        _queue[at].CopyTo(value);
        _queue.RemoveAt(at);
        return 0;
    }

    private int Find(ReadOnlySpan<byte> key)
    {
        for (int i = 0; i < _hash.Count; i++)
        {
            if (key.SequenceEqual(_hash[i].Key))
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>Ids and fds 100 + i for programs and 200 + i for maps, by position in the lists given.</summary>
internal sealed class FakeNames(string[] programs, string[] maps) : VethXdp.Vm.Runtime.IMapsJsonNames
{
    public string? ProgramName(uint handle) => handle >= 100 && handle - 100 < programs.Length ? programs[handle - 100] : null;

    public bool TryGetProgramFd(string name, out uint handle)
    {
        int i = Array.IndexOf(programs, name);
        handle = i < 0 ? 0 : 100 + (uint)i;
        return i >= 0;
    }

    public string? MapName(uint handle) => handle >= 200 && handle - 200 < maps.Length ? maps[handle - 200] : null;

    public bool TryGetMapFd(string name, out uint handle)
    {
        int i = Array.IndexOf(maps, name);
        handle = i < 0 ? 0 : 200 + (uint)i;
        return i >= 0;
    }
}
