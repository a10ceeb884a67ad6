using System.Text;
using System.Text.RegularExpressions;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;
using VethXdp.Vm.Runtime;

namespace VethXdp.Jit.Tests;

/// <summary>XDP programs in kernel assembly with maps, run through <see cref="XdpRunner"/> on the interpreter and on the
/// checked JIT, each on its own freshly loaded object: results and final maps must agree.</summary>
internal static class Xdp
{
    public static ProgramSpec Prog(string asm, string name = "prog") => new()
    {
        Name = name,
        SectionName = "xdp",
        Type = ProgramType.Xdp,
        Slots = Assembler.Assemble(asm),
    };

    public static MapSpec Map(string name, MapType type, uint key, uint value, uint max) => new()
    {
        Name = name,
        Type = type,
        KeySize = key,
        ValueSize = value,
        MaxEntries = max,
    };

    public static MapSpec Progs(params (uint Slot, string Prog)[] slots) =>
        Map("progs", MapType.ProgArray, 4, 4, 4) with { InitialSlots = [.. slots.Select(s => new MapSlotInit(s.Slot, s.Prog))] };

    public static MapSpec Global(string name, byte[] data) => new()
    {
        Name = name,
        Type = MapType.Array,
        KeySize = 4,
        ValueSize = (uint)data.Length,
        MaxEntries = 1,
        Flags = MapFlags.Mmapable,
        SectionName = name,
        InitialData = data,
        IsGlobalData = true,
    };

    public static byte[] Frame(int length = 60)
    {
        var f = new byte[length];
        for (int i = 0; i < length; i++)
        {
            f[i] = (byte)i;
        }

        return f;
    }

    /// <summary>Runs <paramref name="programs"/>[0] over each frame on both engines; asserts the same results and maps,
    /// returns the JIT's per-frame descriptions.</summary>
    public static string[] Same(MapSpec[] maps, ProgramSpec[] programs, params byte[][] frames) =>
        Same(RunOptions.Default, maps, programs, frames);

    /// <summary>As <see cref="Same(MapSpec[], ProgramSpec[], byte[][])"/> with run options (a time step for timers).</summary>
    public static string[] Same(RunOptions options, MapSpec[] maps, ProgramSpec[] programs, params byte[][] frames)
    {
        var interp = Run(options, maps, programs, frames, null);
        var jit = Run(options, maps, programs, frames, JitEngineFactory.Checked);
        for (int i = 0; i < frames.Length; i++)
        {
            Assert.Equal(interp.Packets[i], jit.Packets[i]);
        }

        Assert.Equal(interp.Maps, jit.Maps);
        return [.. jit.Packets];
    }

    public static string Once(string asm, params MapSpec[] maps) => Same(maps, [Prog(asm)], Frame())[0];

    /// <summary>Runs <paramref name="asm"/> once on the interpreter and on the checked JIT; both must fault with the
    /// same message, host addresses aside (each engine has its own packet buffer). Returns the JIT's message.</summary>
    public static string SameFault(string asm, params MapSpec[] maps)
    {
        string interp = RunError(asm, maps, null);
        string jit = RunError(asm, maps, JitEngineFactory.Checked);
        Assert.Equal(MaskAddresses(interp), MaskAddresses(jit));
        return jit;
    }

    private static string RunError(string asm, MapSpec[] maps, IBpfEngineFactory? engine)
    {
        var programs = new[] { Prog(asm) };
        using var obj = LoadedObject.Create(maps, programs, new LoadOptions { PossibleCpus = 2 });
        using var runner = new XdpRunner(obj, programs[0].Name, RunOptions.Default, engine);
        var r = runner.Run(Frame());
        Assert.NotNull(r.Error);
        return r.Error!.ToString();
    }

    private static string MaskAddresses(string message) => Regex.Replace(message, "0x[0-9a-f]+", "0x?");

    private static (List<string> Packets, string Maps) Run(RunOptions options, MapSpec[] maps, ProgramSpec[] programs, byte[][] frames, IBpfEngineFactory? engine)
    {
        using var obj = LoadedObject.Create(maps, programs, new LoadOptions { PossibleCpus = 2 });
        using var runner = new XdpRunner(obj, programs[0].Name, options, engine);
        var packets = new List<string>();
        foreach (var f in frames)
        {
            var r = runner.Run(f);
            if (r.Error is { } e)
            {
                packets.Add("error: " + e);
                continue;
            }

            var sb = new StringBuilder();
            sb.Append("retval=").Append(r.Retval).Append(" redirect=").Append(r.Redirect?.ToString() ?? "-")
              .Append(" meta=").Append(Convert.ToHexString(r.Meta.Span)).Append(" data=").Append(Convert.ToHexString(r.Data.Span))
              .Append(" insns=").Append(r.InstructionsExecuted);
            foreach (var t in r.Trace)
            {
                sb.Append(" trace=").Append(t);
            }

            packets.Add(sb.ToString());
        }

        return (packets, MapsJson.Format(obj.Maps, obj.Names));
    }
}
