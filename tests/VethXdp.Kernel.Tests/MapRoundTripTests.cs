using System.Buffers.Binary;
using VethXdp.Kernel;
using VethXdp.Vm.Maps;

namespace VethXdp.Kernel.Tests;

public class MapRoundTripTests
{
    private static byte[] U32(uint v)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        return b;
    }

    private static byte[] U64(ulong v)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        return b;
    }

    private static BpfFd Create(MapType type, uint key, uint value, uint max, uint flags = 0, string name = "t") =>
        BpfSyscall.MapCreate(new MapCreateRequest { Type = type, KeySize = key, ValueSize = value, MaxEntries = max, Flags = flags, Name = name });

    [SkippableFact]
    public void Array_UpdateLookupNextKey_RoundTrips()
    {
        KernelSkip.IfNotPermitted();
        using var map = Create(MapType.Array, 4, 8, 4, name: "arr");
        BpfSyscall.MapUpdate(map, U32(2), U64(0x1122334455667788));
        var value = new byte[8];
        Assert.True(BpfSyscall.TryMapLookup(map, U32(2), value));
        Assert.Equal(0x1122334455667788UL, BinaryPrimitives.ReadUInt64LittleEndian(value));
        Assert.True(BpfSyscall.TryMapLookup(map, U32(3), value));
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(value));

        var keys = new List<uint>();
        var key = Array.Empty<byte>();
        var next = new byte[4];
        while (BpfSyscall.TryMapGetNextKey(map, key, next))
        {
            keys.Add(BinaryPrimitives.ReadUInt32LittleEndian(next));
            key = (byte[])next.Clone();
        }

        Assert.Equal([0u, 1u, 2u, 3u], keys);
        var e = Assert.Throws<KernelBpfException>(() => BpfSyscall.MapUpdate(map, U32(4), U64(1)));
        Assert.Equal("E2BIG", e.ErrnoName);   // array_map_update_elem: index >= max_entries
        Assert.Equal(BpfCommand.MapUpdateElem, e.Command);
        Assert.Contains("BPF_MAP_UPDATE_ELEM", e.Message);
    }

    [SkippableFact]
    public void Hash_UpdateFlagsDeleteAndIterate_FollowTheKernel()
    {
        KernelSkip.IfNotPermitted();
        using var map = Create(MapType.Hash, 4, 4, 8, name: "h");
        BpfSyscall.MapUpdate(map, U32(10), U32(100), BpfFlags.NoExist);
        BpfSyscall.MapUpdate(map, U32(20), U32(200));
        var exists = Assert.Throws<KernelBpfException>(() => BpfSyscall.MapUpdate(map, U32(10), U32(1), BpfFlags.NoExist));
        Assert.Equal(Errno.EEXIST, exists.Errno);
        var missing = Assert.Throws<KernelBpfException>(() => BpfSyscall.MapUpdate(map, U32(30), U32(1), BpfFlags.Exist));
        Assert.Equal(Errno.ENOENT, missing.Errno);

        var value = new byte[4];
        Assert.True(BpfSyscall.TryMapLookup(map, U32(20), value));
        Assert.Equal(200u, BinaryPrimitives.ReadUInt32LittleEndian(value));
        Assert.False(BpfSyscall.TryMapLookup(map, U32(30), value));

        var keys = new HashSet<uint>();
        var key = Array.Empty<byte>();
        var next = new byte[4];
        while (BpfSyscall.TryMapGetNextKey(map, key, next))
        {
            keys.Add(BinaryPrimitives.ReadUInt32LittleEndian(next));
            key = (byte[])next.Clone();
        }

        Assert.Equal(new HashSet<uint> { 10, 20 }, keys);
        Assert.True(BpfSyscall.TryMapDelete(map, U32(10)));
        Assert.False(BpfSyscall.TryMapDelete(map, U32(10)));
    }

    [SkippableFact]
    public void PercpuArray_Values_AreRoundedUpPerPossibleCpu()
    {
        KernelSkip.IfNotPermitted();
        int cpus = CpuTopology.PossibleCpus;
        using var map = Create(MapType.PercpuArray, 4, 4, 2, name: "pc");
        var all = new byte[8 * cpus];   // round_up(4, 8) per CPU
        for (int c = 0; c < cpus; c++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(all.AsSpan(c * 8), (uint)(c + 1) * 11);
        }

        BpfSyscall.MapUpdate(map, U32(1), all);
        var back = new byte[8 * cpus];
        Assert.True(BpfSyscall.TryMapLookup(map, U32(1), back));
        Assert.Equal(all, back);
    }

    [SkippableFact]
    public void LpmTrie_Lookup_FindsTheLongestPrefix()
    {
        KernelSkip.IfNotPermitted();
        using var map = Create(MapType.LpmTrie, 8, 4, 16, BpfFlags.NoPrealloc, "lpm");
        static byte[] Key(uint prefixLen, byte a, byte b, byte c, byte d)
        {
            var k = new byte[8];
            BinaryPrimitives.WriteUInt32LittleEndian(k, prefixLen);   // struct bpf_lpm_trie_key: host-order prefixlen, then the address
            k[4] = a; k[5] = b; k[6] = c; k[7] = d;
            return k;
        }

        BpfSyscall.MapUpdate(map, Key(8, 10, 0, 0, 0), U32(8));
        BpfSyscall.MapUpdate(map, Key(24, 10, 1, 2, 0), U32(24));
        var value = new byte[4];
        Assert.True(BpfSyscall.TryMapLookup(map, Key(32, 10, 1, 2, 3), value));
        Assert.Equal(24u, BinaryPrimitives.ReadUInt32LittleEndian(value));
        Assert.True(BpfSyscall.TryMapLookup(map, Key(32, 10, 9, 9, 9), value));
        Assert.Equal(8u, BinaryPrimitives.ReadUInt32LittleEndian(value));
        Assert.False(BpfSyscall.TryMapLookup(map, Key(32, 11, 0, 0, 0), value));

        var next = new byte[8];
        int n = 0;
        var key = Array.Empty<byte>();
        while (BpfSyscall.TryMapGetNextKey(map, key, next))
        {
            n++;
            key = (byte[])next.Clone();
        }

        Assert.Equal(2, n);
    }

    [SkippableFact]
    public void Queue_PushPeekPop_IsFifo()
    {
        KernelSkip.IfNotPermitted();
        using var map = Create(MapType.Queue, 0, 4, 2, name: "q");
        BpfSyscall.MapUpdate(map, [], U32(1));
        BpfSyscall.MapUpdate(map, [], U32(2));
        var full = Assert.Throws<KernelBpfException>(() => BpfSyscall.MapUpdate(map, [], U32(3)));
        Assert.Equal(Errno.E2BIG, full.Errno);   // queue_stack_map_push_elem without BPF_EXIST
        BpfSyscall.MapUpdate(map, [], U32(3), BpfFlags.Exist);   // BPF_EXIST overwrites the oldest

        var value = new byte[4];
        Assert.True(BpfSyscall.TryMapLookup(map, [], value));   // peek
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(value));
        Assert.True(BpfSyscall.TryMapLookupAndDelete(map, [], value));
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(value));
        Assert.True(BpfSyscall.TryMapLookupAndDelete(map, [], value));
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(value));
        Assert.False(BpfSyscall.TryMapLookupAndDelete(map, [], value));
    }

    [SkippableFact]
    public void MapFreeze_ThenUpdate_IsRefusedWithEperm()
    {
        KernelSkip.IfNotPermitted();
        using var map = Create(MapType.Array, 4, 4, 1, name: "frozen");
        BpfSyscall.MapUpdate(map, U32(0), U32(7));
        BpfSyscall.MapFreeze(map);
        var e = Assert.Throws<KernelBpfException>(() => BpfSyscall.MapUpdate(map, U32(0), U32(8)));
        Assert.Equal(Errno.EPERM, e.Errno);   // map_update_elem: frozen maps are read-only for user space
    }

    [SkippableFact]
    public void MapCreate_BadDefinition_NamesTheMapAndErrno()
    {
        KernelSkip.IfNotPermitted();
        var e = Assert.Throws<KernelBpfException>(() => Create(MapType.Array, 8, 4, 1, name: "badkey"));
        Assert.Equal(Errno.EINVAL, e.Errno);   // array maps take 4-byte keys
        Assert.Contains("map \"badkey\"", e.Message);
        Assert.Contains("EINVAL", e.Message);
    }
}
