using System.Buffers.Binary;
using VethXdp.Vm.Maps;

namespace VethXdp.Vm.Tests.Maps;

/// <summary>Map values with a kptr field (kernel: BPF_KPTR_REF): the field is hidden from user space, and the object
/// it holds is freed when the element is overwritten, deleted or freed with its map.</summary>
public class KptrFieldTests
{
    private static readonly KptrField s_field = new(8, Percpu: false, TypeId: 7, "obj", 16);

    private static BpfMap Create(MapType type) => MapFactory.Create(new MapSpec
    {
        Name = "m",
        Type = type,
        KeySize = 4,
        ValueSize = 16,
        MaxEntries = 4,
        KptrFields = [s_field],
    }, 1);

    // What a program does: bpf_obj_new, then bpf_kptr_xchg into the value at key 0.
    private static unsafe ulong Store(BpfMap map, uint key)
    {
        ulong obj = map.Objects!.Allocate(s_field.Size, 0, s_field.TypeId);
        Assert.NotEqual(0UL, obj);
        ulong value = map.Lookup(BitConverter.GetBytes(key), 0);
        Assert.NotEqual(0UL, value);
        *(ulong*)(value + 8) = obj;
        *(ulong*)value = 0x1122;
        return obj;
    }

    [Theory]
    [InlineData(MapType.Array)]
    [InlineData(MapType.Hash)]
    [InlineData(MapType.LruHash)]
    public void UserLookup_FieldHoldsObject_ReadsZero(MapType type)
    {
        using var map = Create(type);
        if (type != MapType.Array)
        {
            Assert.Equal(0, map.UserUpdate(BitConverter.GetBytes(0u), new byte[16], 0));
        }

        Store(map, 0);
        var value = new byte[16];
        Assert.Equal(0, map.UserLookup(BitConverter.GetBytes(0u), value));
        Assert.Equal(0x1122UL, BinaryPrimitives.ReadUInt64LittleEndian(value));
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(value.AsSpan(8)));
        Assert.Contains(map.ValueRegions, r => r == map.Objects!.Region);
    }

    [Theory]
    [InlineData(MapType.Array)]
    [InlineData(MapType.Hash)]
    [InlineData(MapType.LruHash)]
    public unsafe void Update_ElementHoldsObject_FreesItAndFieldIsNull(MapType type)
    {
        using var map = Create(type);
        var key = BitConverter.GetBytes(0u);
        Assert.Equal(0, map.UserUpdate(key, new byte[16], 0));
        Store(map, 0);
        Assert.Equal(1, map.Objects!.LiveObjects);

        // The update's own bytes at the field are not copied in: the field reads NULL afterwards.
        var update = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(update.AsSpan(8), 0xdead);
        Assert.Equal(0L, map.Update(key, update, 0, 0));
        Assert.Equal(0, map.Objects.LiveObjects);
        Assert.Equal(0UL, *(ulong*)(map.Lookup(key, 0) + 8));
    }

    [Theory]
    [InlineData(MapType.Hash)]
    [InlineData(MapType.LruHash)]
    public void Delete_ElementHoldsObject_FreesIt(MapType type)
    {
        using var map = Create(type);
        var key = BitConverter.GetBytes(3u);
        Assert.Equal(0, map.UserUpdate(key, new byte[16], 0));
        Store(map, 3);
        Assert.Equal(0L, map.Delete(key));
        Assert.Equal(0, map.Objects!.LiveObjects);
    }

    [Fact]
    public void Dispose_ObjectOfAnotherMapsArena_FreesIt()
    {
        using var owner = Create(MapType.Array);
        ulong obj = owner.Objects!.Allocate(16, 0, 7);
        var holder = Create(MapType.Array);
        unsafe
        {
            *(ulong*)(holder.Lookup(BitConverter.GetBytes(1u), 0) + 8) = obj;
        }

        holder.Dispose();
        Assert.Equal(0, owner.Objects.LiveObjects);
    }

    [Fact]
    public void Allocate_PerCpu_CopiesSideBySide()
    {
        using var arena = new ObjectArena("t", 4096);
        ulong p = arena.Allocate(12, 3, 9);
        Assert.True(ObjectArena.TryFind(p, out var found, out var info));
        Assert.Same(arena, found);
        Assert.Equal((16, 3, 48, true), (info.Stride, info.Cpus, info.Total, info.IsPercpu));
        Assert.True(arena.Free(p));
        Assert.False(arena.Free(p));

        // Freed memory is reused for the next object of the same size; a full arena gives 0 (NULL).
        Assert.Equal(p, arena.Allocate(12, 3, 9));
        Assert.Equal(0UL, arena.Allocate(8192, 0, 1));
    }
}
