using VethXdp.Vm.Memory;

namespace VethXdp.Vm.Maps;

/// <summary>BPF_MAP_TYPE_BLOOM_FILTER (kernel/bpf/bloom_filter.c).</summary>
/// <remarks>
/// nr_hash_funcs = map_extra &amp; 0xF (5 when 0); a bit array of roundup_pow_of_two(max_entries * nr_hash_funcs * 7 / 5)
/// bits (at least 64); hash i of a value is jhash(value, seed + i) &amp; mask. Push (BPF_ANY only, else -EINVAL) sets
/// the bits, peek is 0 when every bit is set, else -ENOENT. The seed is 0 (the kernel's is random unless
/// BPF_F_ZERO_SEED), so false positives are reproducible.
/// </remarks>
public sealed class BloomFilterMap : BpfMap
{
    private readonly ulong[] _bits;
    private readonly uint _mask;
    private readonly uint _hashes;
    private readonly int _valueSize;

    internal BloomFilterMap(MapSpec spec, int possibleCpus)
        : base(spec, possibleCpus)
    {
        _valueSize = (int)spec.ValueSize;
        _hashes = (uint)(spec.MapExtra & 0xF);
        if (_hashes == 0)
        {
            _hashes = 5;
        }

        ulong bits = (ulong)spec.MaxEntries * _hashes;
        ulong nrBits = bits > uint.MaxValue ? ulong.MaxValue : (bits / 5) * 7;
        if (nrBits > (1UL << 31))
        {
            _mask = uint.MaxValue;
            _bits = new ulong[(1UL << 32) / 64];
        }
        else
        {
            nrBits = nrBits <= 64 ? 64 : System.Numerics.BitOperations.RoundUpToPowerOf2(nrBits);
            _mask = (uint)(nrBits - 1);
            _bits = new ulong[nrBits / 64];
        }
    }

    /// <inheritdoc/>
    public override IReadOnlyList<MemoryRegion> ValueRegions => [];

    /// <inheritdoc/>
    public override int UserKeySize => 0;

    /// <inheritdoc/>
    public override ulong Lookup(ReadOnlySpan<byte> key, int cpu) => 0;

    /// <inheritdoc/>
    public override long Push(ReadOnlySpan<byte> value, ulong flags)
    {
        // kernel: bloom_map_push_elem
        if (flags != MapUpdateFlags.Any)
        {
            return -Errno.EINVAL;
        }

        var v = value.Slice(0, _valueSize);
        for (uint i = 0; i < _hashes; i++)
        {
            uint h = JHash.Hash(v, i) & _mask;
            _bits[h >> 6] |= 1UL << (int)(h & 63);
        }

        return 0;
    }

    /// <inheritdoc/>
    public override long Peek(Span<byte> value)
    {
        // kernel: bloom_map_peek_elem
        var v = value.Slice(0, _valueSize);
        for (uint i = 0; i < _hashes; i++)
        {
            uint h = JHash.Hash(v, i) & _mask;
            if ((_bits[h >> 6] & (1UL << (int)(h & 63))) == 0)
            {
                return -Errno.ENOENT;
            }
        }

        return 0;
    }

    /// <inheritdoc/>
    public override long Delete(ReadOnlySpan<byte> key) => -Errno.EOPNOTSUPP;

    /// <inheritdoc/>
    public override int UserLookup(ReadOnlySpan<byte> key, Span<byte> value) =>
        UserCanRead ? (int)Peek(value) : -Errno.EPERM;

    /// <inheritdoc/>
    public override int UserUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags) =>
        UserCanWrite ? (int)Push(value, flags) : -Errno.EPERM;

    /// <inheritdoc/>
    public override int UserDelete(ReadOnlySpan<byte> key) => -Errno.EOPNOTSUPP;

    /// <inheritdoc/>
    public override int GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) => -Errno.EOPNOTSUPP;

    /// <summary>Nothing: a bloom filter has no elements to list.</summary>
    public override IEnumerable<(byte[] Key, byte[] Value)> Entries() => [];
}
