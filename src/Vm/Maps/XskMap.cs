using System.Buffers.Binary;
using VethXdp.Vm.Memory;

namespace VethXdp.Vm.Maps;

/// <summary>BPF_MAP_TYPE_XSKMAP (kernel/bpf/xskmap.c): AF_XDP sockets by queue index.</summary>
/// <remarks>
/// User space writes a socket fd (u32): <see cref="SocketResolver"/> turns it into the runtime's socket object; without
/// a resolver any fd is accepted and stored (the socket object is then null). Updates: flags past BPF_EXIST -EINVAL,
/// a key past the end -E2BIG, an unresolved fd -EBADF, BPF_NOEXIST on an occupied slot -EEXIST (unless it holds the
/// same socket), BPF_EXIST on an empty one -ENOENT. User-side lookups are -EOPNOTSUPP as in the kernel; programs'
/// lookups return the address of a read-only u32 (the fd) when a socket is present, so
/// <c>if (bpf_map_lookup_elem(&amp;xsks, &amp;q))</c> works; delete of a key past the end is -EINVAL.
/// </remarks>
public sealed unsafe class XskMap : BpfMap
{
    private readonly NativeBlock _vals;
    private readonly bool[] _present;
    private readonly object?[] _sockets;
    private readonly MemoryRegion[] _regions;

    internal XskMap(MapSpec spec, int possibleCpus)
        : base(spec, possibleCpus)
    {
        _vals = new NativeBlock(8UL * spec.MaxEntries);
        _present = new bool[spec.MaxEntries];
        _sockets = new object?[spec.MaxEntries];
        _regions = [new MemoryRegion(_vals.Address, _vals.Length, RegionKind.MapValue, false, "map " + Name + " values")];
    }

    /// <summary>Turns a socket fd into the runtime's socket object, or null when there is no such socket.</summary>
    public Func<uint, object?>? SocketResolver { get; set; }

    /// <inheritdoc/>
    public override IReadOnlyList<MemoryRegion> ValueRegions => _regions;

    /// <summary>__xsk_map_lookup_elem for bpf_redirect_map: the socket's fd and object in slot <paramref name="key"/>.</summary>
    public bool TryGetRedirectTarget(uint key, out uint fd, out object? socket)
    {
        if (key < (uint)_present.Length && _present[key])
        {
            fd = *(uint*)(_vals.Pointer + (8UL * key));
            socket = _sockets[key];
            return true;
        }

        fd = 0;
        socket = null;
        return false;
    }

    /// <summary>Stores a socket directly (an object instead of an fd) under <paramref name="fd"/>; BPF_ANY's checks.</summary>
    public int SetSocket(uint key, uint fd, object? socket)
    {
        if (key >= (uint)_present.Length)
        {
            return -Errno.E2BIG;
        }

        _present[key] = true;
        _sockets[key] = socket;
        *(uint*)(_vals.Pointer + (8UL * key)) = fd;
        return 0;
    }

    /// <inheritdoc/>
    public override ulong Lookup(ReadOnlySpan<byte> key, int cpu)
    {
        uint k = MapValue.U32(key);
        return k < (uint)_present.Length && _present[k] ? _vals.Address + (8UL * k) : 0;
    }

    /// <inheritdoc/>
    public override int UserLookup(ReadOnlySpan<byte> key, Span<byte> value) => -Errno.EOPNOTSUPP;

    /// <inheritdoc/>
    public override int UserUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        // kernel: xsk_map_update_elem
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

        uint fd = BinaryPrimitives.ReadUInt32LittleEndian(value);
        object? socket = null;
        if (SocketResolver is { } resolve)
        {
            socket = resolve(fd);
            if (socket is null)
            {
                return -Errno.EBADF;
            }
        }

        bool same = _present[k] && (socket is null ? *(uint*)(_vals.Pointer + (8UL * k)) == fd : ReferenceEquals(_sockets[k], socket));
        if (same)
        {
            return 0;
        }

        if (_present[k] && flags == MapUpdateFlags.NoExist)
        {
            return -Errno.EEXIST;
        }

        if (!_present[k] && flags == MapUpdateFlags.Exist)
        {
            return -Errno.ENOENT;
        }

        return SetSocket(k, fd, socket);
    }

    /// <inheritdoc/>
    public override int UserDelete(ReadOnlySpan<byte> key)
    {
        // kernel: xsk_map_delete_elem
        if (!UserCanWrite)
        {
            return -Errno.EPERM;
        }

        uint k = MapValue.U32(key);
        if (k >= (uint)_present.Length)
        {
            return -Errno.EINVAL;
        }

        _present[k] = false;
        _sockets[k] = null;
        *(uint*)(_vals.Pointer + (8UL * k)) = 0;
        return 0;
    }

    /// <inheritdoc/>
    public override int GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) =>
        UserCanRead ? ArrayKeys.GetNext(key, nextKey, (uint)_present.Length) : -Errno.EPERM;

    /// <summary>The occupied slots with the stored fd as value (bpf() cannot read them: for dumps only).</summary>
    public override IEnumerable<(byte[] Key, byte[] Value)> Entries()
    {
        var list = new List<(byte[], byte[])>();
        for (uint k = 0; k < (uint)_present.Length; k++)
        {
            if (_present[k])
            {
                list.Add((BitConverter.GetBytes(k), BitConverter.GetBytes(*(uint*)(_vals.Pointer + (8UL * k)))));
            }
        }

        return list;
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
}
