using System.Buffers.Binary;
using VethXdp.Vm.Maps;

namespace VethXdp.Vm.Tests.Maps;

/// <summary>Shorthands for map tests. Two possible CPUs unless a test says otherwise (the reference machine has two,
/// and the kernel scenarios below were recorded there).</summary>
internal static class MapTestUtil
{
    public const int Cpus = 2;

    public static MapSpec Spec(MapType type, uint key, uint value, uint max, uint flags = 0, string name = "m") =>
        new() { Name = name, Type = type, KeySize = key, ValueSize = value, MaxEntries = max, Flags = flags };

    public static T Create<T>(MapType type, uint key, uint value, uint max, uint flags = 0, int cpus = Cpus)
        where T : BpfMap => (T)MapFactory.Create(Spec(type, key, value, max, flags), cpus);

    public static byte[] K(uint k) => BitConverter.GetBytes(k);

    public static byte[] V(ulong v) => BitConverter.GetBytes(v);

    public static byte[] V32(uint v) => BitConverter.GetBytes(v);

    public static unsafe ulong Read64(ulong address) => *(ulong*)address;

    public static unsafe uint Read32(ulong address) => *(uint*)address;

    public static unsafe void Write64(ulong address, ulong value) => *(ulong*)address = value;

    public static uint U32(ReadOnlySpan<byte> b) => BinaryPrimitives.ReadUInt32LittleEndian(b);

    public static ulong U64(ReadOnlySpan<byte> b) => BinaryPrimitives.ReadUInt64LittleEndian(b);

    /// <summary>Keys in get_next_key order, as u32.</summary>
    public static List<uint> KeysU32(BpfMap map)
    {
        var keys = new List<uint>();
        var key = new byte[4];
        var next = new byte[4];
        bool first = true;
        while (map.GetNextKey(first ? [] : key, next) == 0)
        {
            first = false;
            keys.Add(U32(next));
            next.CopyTo(key);
        }

        return keys;
    }

    /// <summary>True when some value region of the map holds the <paramref name="size"/> bytes at the address.</summary>
    public static bool InRegion(BpfMap map, ulong address, int size, bool write) =>
        map.ValueRegions.Any(r => r.Contains(address, size) && (r.Writable || !write));
}
