using System.Buffers.Binary;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;
using VethXdp.Vm.Runtime;

namespace VethXdp.Vm.Tests.Runtime;

/// <summary>Builders for runtime tests: XDP programs in kernel assembly, map definitions, frames, one-shot runs.</summary>
internal static class Rt
{
    public const uint Aborted = 0, Drop = 1, Pass = 2, Tx = 3, Redirect = 4;

    public static ProgramSpec Xdp(string asm, string name = "prog", string section = "xdp", uint attach = 0) => new()
    {
        Name = name,
        SectionName = section,
        Type = ProgramType.Xdp,
        ExpectedAttachType = attach,
        Slots = Assembler.Assemble(asm),
    };

    public static MapSpec Map(string name, MapType type, uint key, uint value, uint max, uint flags = 0) => new()
    {
        Name = name,
        Type = type,
        KeySize = key,
        ValueSize = value,
        MaxEntries = max,
        Flags = flags,
    };

    /// <summary>A global-data map (.rodata when frozen) holding <paramref name="data"/>.</summary>
    public static MapSpec Global(string name, byte[] data, bool frozen = true) => new()
    {
        Name = name,
        Type = MapType.Array,
        KeySize = 4,
        ValueSize = (uint)data.Length,
        MaxEntries = 1,
        Flags = frozen ? MapFlags.RdonlyProg | MapFlags.Mmapable : MapFlags.Mmapable,
        SectionName = name,
        InitialData = data,
        IsGlobalData = true,
        Frozen = frozen,
    };

    public static LoadedObject Load(MapSpec[] maps, params ProgramSpec[] programs) =>
        LoadedObject.Create(maps, programs, new LoadOptions { PossibleCpus = 2 });

    public static LoadedObject Load(string asm, params MapSpec[] maps) => Load(maps, Xdp(asm));

    /// <summary>An Ethernet frame of <paramref name="length"/> bytes: byte i is i &amp; 0xff.</summary>
    public static byte[] Frame(int length = 60)
    {
        var f = new byte[length];
        for (int i = 0; i < length; i++)
        {
            f[i] = (byte)i;
        }

        return f;
    }

    /// <summary>Runs <paramref name="asm"/> once on <paramref name="frame"/> (60 bytes by default).</summary>
    public static Outcome RunOnce(string asm, byte[]? frame = null, RunOptions? options = null, params MapSpec[] maps)
    {
        using var obj = Load(asm, maps);
        using var runner = new XdpRunner(obj, null, options);
        return Outcome.Of(runner.Run(frame ?? Frame()));
    }

    public static byte[] U32(uint v)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        return b;
    }

    public static byte[] U64(ulong v)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        return b;
    }

    /// <summary>-errno as the low 32 bits of r0 (the retval a program returning a helper's error has).</summary>
    public static uint Err(int errno) => unchecked((uint)-errno);
}

/// <summary>A copy of an <see cref="XdpResult"/> that outlives the runner.</summary>
internal sealed record Outcome(uint Retval, XdpAction Action, RedirectInfo? Redirect, byte[] Meta, byte[] Data, string[] Trace, (string Map, byte[] Data)[] Events, XdpError? Error)
{
    public static Outcome Of(in XdpResult r) => new(
        r.Retval,
        r.Action,
        r.Redirect,
        r.Meta.ToArray(),
        r.Data.ToArray(),
        [.. r.Trace],
        [.. r.Events.Select(e => (e.Map, e.Data.ToArray()))],
        r.Error);
}
