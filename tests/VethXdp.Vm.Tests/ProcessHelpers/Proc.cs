using System.Buffers.Binary;
using System.Globalization;
using System.Text.RegularExpressions;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Tests.Runtime;

namespace VethXdp.Vm.Tests.CurrentTask;

/// <summary>Runs programs with the Process, Timer and Other helper groups registered, and local storage maps built.</summary>
internal static partial class Proc
{
    public static HelperTable Helpers()
    {
        var t = HelperTable.CreateDefault();
        HelperTable.AddProcessGroups(t);
        return t;
    }

    public static BpfMap Factory(MapSpec spec, int cpus) => spec.Type switch
    {
        MapType.TaskStorage or MapType.CgrpStorage => new LocalStorageMap(spec, cpus),
        MapType.CgroupArray => new FakeCgroupArray(spec, cpus),
        _ => MapFactory.Create(spec, cpus),
    };

    public static LoadedObject Load(string asm, params MapSpec[] maps) =>
        LoadedObject.Create(maps, [Rt.Xdp(Resolve(asm))], new LoadOptions { PossibleCpus = 2, Helpers = Helpers(), MapFactory = Factory });

    /// <summary>Runs <paramref name="asm"/> once in a task described by <paramref name="context"/> (the defaults when null).</summary>
    public static Outcome Run(string asm, ProcessContext? context = null, params MapSpec[] maps)
    {
        using var obj = Load(asm, maps);
        using var runner = new XdpRunner(obj);
        if (context is not null)
        {
            ProcessState.Of(runner.Env).Context = context;
        }

        return Outcome.Of(runner.Run(Rt.Frame()));
    }

    /// <summary>An array map "out" of one value of <paramref name="size"/> bytes.</summary>
    public static MapSpec Out(uint size = 128) => Rt.Map("out", MapType.Array, 4, size, 1);

    /// <summary>The value of "out" (key 0).</summary>
    public static byte[] ReadOut(LoadedObject obj)
    {
        var map = obj.Maps["out"];
        var value = new byte[map.UserValueSize];
        Assert.Equal(0, map.UserLookup(new byte[4], value));
        return value;
    }

    public static long U64(byte[] value, int index) => BinaryPrimitives.ReadInt64LittleEndian(value.AsSpan(index * 8));

    /// <summary>r7 = &amp;out[0] (map 0 must be "out"), or the program returns 1.</summary>
    public const string OutInR7 = """
        *(u32 *)(r10 -4) = 0
        r1 = map[idx:0]
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem
        if r0 == 0 goto fail
        r7 = r0

        """;

    /// <summary>The tail of a program using <see cref="OutInR7"/>.</summary>
    public const string Done = "\n" + """
        r0 = 2
        exit
        fail:
        r0 = 1
        exit

        """;

    // "ld_pseudo rX, 4, @label": the label's slot, relative to the instruction after the load (BPF_PSEUDO_FUNC).
    private static string Resolve(string asm)
    {
        var lines = asm.Split('\n');
        var labels = new Dictionary<string, int>();
        var slots = new int[lines.Length];
        int slot = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            slots[i] = slot;
            if (line.Length == 0)
            {
                continue;
            }

            if (line.EndsWith(':'))
            {
                labels[line[..^1]] = slot;
                continue;
            }

            slot += line.EndsWith(" ll", StringComparison.Ordinal) || line.Contains("map[", StringComparison.Ordinal)
                || line.StartsWith("ld_pseudo", StringComparison.Ordinal) ? 2 : 1;
        }

        for (int i = 0; i < lines.Length; i++)
        {
            int at = i;
            lines[i] = PseudoLabel().Replace(lines[i], m => (labels[m.Groups[1].Value] - (slots[at] + 1)).ToString(CultureInfo.InvariantCulture));
        }

        return string.Join('\n', lines);
    }

    [GeneratedRegex("@([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex PseudoLabel();
}

/// <summary>A BPF_MAP_TYPE_CGROUP_ARRAY whose slots hold cgroup ids the test sets.</summary>
internal sealed class FakeCgroupArray(MapSpec spec, int cpus) : BpfMap(spec, cpus), ICgroupArrayMap
{
    public Dictionary<uint, ulong> Cgroups { get; } = [];

    public override IReadOnlyList<Memory.MemoryRegion> ValueRegions => [];

    public bool TryGetCgroupId(uint index, out ulong cgroupId) => Cgroups.TryGetValue(index, out cgroupId);

    public override ulong Lookup(ReadOnlySpan<byte> key, int cpu) => 0;

    public override int UserLookup(ReadOnlySpan<byte> key, Span<byte> value) => -Errno.EOPNOTSUPP;

    public override int UserUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags) => -Errno.EOPNOTSUPP;

    public override int GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) => -Errno.ENOENT;
}
