using BenchmarkDotNet.Attributes;
using VethXdp.Vm.Maps;

namespace VethXdp.Benchmarks;

/// <summary>The helper-side cost of hash map operations (what bpf_map_lookup_elem / update / delete do once the JIT
/// has resolved the map): a hit, a miss, an update of an existing key and a delete + reinsert, per key size and
/// map type.</summary>
/// <remarks>Run: <c>dotnet run -c Release --project tests/VethXdp.Benchmarks -- --filter '*HashMapBenchmarks*'</c>.
/// Each invocation runs a batch of <see cref="Batch"/> operations over 64 present keys (OperationsPerInvoke), so Mean
/// reads as ns per operation; the memory diagnoser must show 0 B.</remarks>
[MemoryDiagnoser]
public unsafe class HashMapBenchmarks
{
    private const int Batch = 1024;
    private const int Keys = 64;

    private HashMap _map = null!;
    private byte* _keys;
    private byte* _missing;
    private byte* _value;
    private int _keySize;

    /// <summary>Map type.</summary>
    [Params(MapType.Hash, MapType.PercpuHash, MapType.LruHash)]
    public MapType Type { get; set; } = MapType.Hash;

    /// <summary>Key size in bytes (4, 8 and 16 take unrolled paths, 6 the general one).</summary>
    [Params(4, 6, 8, 16)]
    public int KeySize { get; set; } = 4;

    /// <summary>Creates a 4096-entry map holding 64 keys.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _keySize = KeySize;
        var spec = new MapSpec { Name = "bench", Type = Type, KeySize = (uint)KeySize, ValueSize = 16, MaxEntries = 4096 };
        _map = (HashMap)MapFactory.Create(spec, 2);
        _keys = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed((nuint)(Keys * KeySize));
        _missing = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed((nuint)(Keys * KeySize));
        _value = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed(16);
        var rng = new Random(42);
        for (int i = 0; i < Keys; i++)
        {
            var k = new Span<byte>(_keys + (i * KeySize), KeySize);
            rng.NextBytes(k);
            k[0] = (byte)i;
            k[KeySize - 1] = 0x11;
            var m = new Span<byte>(_missing + (i * KeySize), KeySize);
            k.CopyTo(m);
            m[KeySize - 1] = 0x22;
            _map.Update(k, new ReadOnlySpan<byte>(_value, 16), 0, 0);
        }
    }

    /// <summary>Frees the map and the keys.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _map.Dispose();
        System.Runtime.InteropServices.NativeMemory.Free(_keys);
        System.Runtime.InteropServices.NativeMemory.Free(_missing);
        System.Runtime.InteropServices.NativeMemory.Free(_value);
    }

    /// <summary>bpf_map_lookup_elem of a present key.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public ulong LookupHit()
    {
        ulong sum = 0;
        for (int i = 0; i < Batch; i++)
        {
            sum += _map.Lookup(new ReadOnlySpan<byte>(_keys + ((i & (Keys - 1)) * _keySize), _keySize), 0);
        }

        return sum;
    }

    /// <summary>bpf_map_lookup_elem of an absent key.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public ulong LookupMiss()
    {
        ulong sum = 0;
        for (int i = 0; i < Batch; i++)
        {
            sum += _map.Lookup(new ReadOnlySpan<byte>(_missing + ((i & (Keys - 1)) * _keySize), _keySize), 0);
        }

        return sum;
    }

    /// <summary>bpf_map_update_elem(BPF_ANY) of a present key.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public long UpdateExisting()
    {
        long sum = 0;
        var value = new ReadOnlySpan<byte>(_value, 16);
        for (int i = 0; i < Batch; i++)
        {
            sum += _map.Update(new ReadOnlySpan<byte>(_keys + ((i & (Keys - 1)) * _keySize), _keySize), value, 0, 0);
        }

        return sum;
    }

    /// <summary>bpf_map_delete_elem then bpf_map_update_elem of the same key.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public long DeleteInsert()
    {
        long sum = 0;
        var value = new ReadOnlySpan<byte>(_value, 16);
        for (int i = 0; i < Batch; i++)
        {
            var key = new ReadOnlySpan<byte>(_keys + ((i & (Keys - 1)) * _keySize), _keySize);
            sum += _map.Delete(key);
            sum += _map.Update(key, value, 0, 0);
        }

        return sum;
    }
}
