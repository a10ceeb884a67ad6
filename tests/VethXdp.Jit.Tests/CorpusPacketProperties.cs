using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using VethXdp.Vm.Elf;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Pcap;
using VethXdp.Vm.Runtime;

namespace VethXdp.Jit.Tests;

/// <summary>Every runnable corpus program (v4) on generated packets: frames from the corpus pcaps with random bytes
/// changed, cut short or extended, in short sequences (maps carry over): the interpreter and the checked JIT give the
/// same verdicts, bytes, redirect targets and errors, and leave the same maps.</summary>
public class CorpusPacketProperties
{
    private static readonly Lazy<(string Path, BpfObject Object, string Program)[]> s_programs = new(() =>
    {
        var list = new List<(string, BpfObject, string)>();
        foreach (var path in Directory.GetFiles(Path.Combine(TestPaths.CorpusDir, "xdp"), "*.v4.o").Order(StringComparer.Ordinal))
        {
            BpfObject obj;
            try
            {
                obj = ElfObjectReader.Load(path);
                using var loaded = LoadedObject.Create(obj, new LoadOptions { PossibleCpus = 2 });
                foreach (var spec in obj.Programs)
                {
                    try
                    {
                        using var runner = new XdpRunner(loaded, spec.Name);
                        list.Add((path, obj, spec.Name));
                    }
                    catch (RuntimeLoadException)
                    {
                    }
                }
            }
            catch (Exception e) when (e is ElfLoadException or RuntimeLoadException)
            {
            }
        }

        return [.. list];
    });

    private static readonly Lazy<byte[][]> s_frames = new(() =>
    {
        var frames = new List<byte[]>();
        foreach (var pcap in Directory.GetFiles(Path.Combine(TestPaths.CorpusDir, "pcaps"), "*.pcap*").Order(StringComparer.Ordinal))
        {
            try
            {
                using var reader = PcapReader.Open(pcap);
                frames.AddRange(reader.ReadAll().Select(r => r.Data.ToArray()));
            }
            catch (PcapFormatException)
            {
            }
        }

        return [.. frames];
    });

    private static Gen<byte[]> Frame =>
        from i in Gen.Choose(0, s_frames.Value.Length - 1)
        from edits in Gen.Choose(0, 6).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 4096).Two(), n))
        from cut in Gen.Frequency((4, Gen.Constant(-1)), (1, Gen.Choose(0, 128)))
        from extra in Gen.Frequency((4, Gen.Constant(0)), (1, Gen.Choose(1, 64)))
        select Mutate(s_frames.Value[i], edits, cut, extra);

    private static byte[] Mutate(byte[] frame, IEnumerable<(int, int)> edits, int cut, int extra)
    {
        var f = new byte[(cut >= 0 ? Math.Min(cut, frame.Length) : frame.Length) + extra];
        frame.AsSpan(0, Math.Min(frame.Length, f.Length)).CopyTo(f);
        foreach (var (at, value) in edits)
        {
            if (f.Length > 0)
            {
                f[at % f.Length] = (byte)value;
            }
        }

        return f;
    }

    [Property(MaxTest = 300)]
    public Property CorpusProgram_GeneratedFrames_InterpAndJitCheckedAgree()
    {
        var programs = s_programs.Value;
        var cases = from p in Gen.Choose(0, programs.Length - 1)
                    from frames in Gen.Choose(1, 4).SelectMany(n => Gen.ArrayOf(Frame, n))
                    select (Program: programs[p], Frames: frames);
        return Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var interp = Run(c.Program.Object, c.Program.Program, c.Frames, null);
            var jit = Run(c.Program.Object, c.Program.Program, c.Frames, JitEngineFactory.Checked);
            return (interp == jit).Label($"{Path.GetFileName(c.Program.Path)} {c.Program.Program}\n{string.Join('\n', c.Frames.Select(Convert.ToHexString))}\ninterp: {interp}\njit:    {jit}");
        });
    }

    [Fact]
    public void Corpus_HasRunnablePrograms() => Assert.True(s_programs.Value.Length >= 40, $"{s_programs.Value.Length} runnable programs");

    private static string Run(BpfObject obj, string program, byte[][] frames, IBpfEngineFactory? engine)
    {
        using var loaded = LoadedObject.Create(obj, new LoadOptions { PossibleCpus = 2 });
        using var runner = new XdpRunner(loaded, program, new RunOptions { TimeStepNs = 1_000_000 }, engine);
        var sb = new System.Text.StringBuilder();
        foreach (var f in frames)
        {
            var r = runner.Run(f);
            sb.Append(r.Error is { } e ? "error " + e : $"{r.Retval} {r.Redirect} {Convert.ToHexString(r.Meta.Span)} {Convert.ToHexString(r.Data.Span)} {string.Join('|', r.Trace)} {r.InstructionsExecuted}").Append('\n');
        }

        return sb.Append(MapsJson.Format(loaded.Maps, loaded.Names)).ToString();
    }
}
