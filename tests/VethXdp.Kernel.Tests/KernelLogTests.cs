using System.Text.RegularExpressions;
using VethXdp.Kernel;
using VethXdp.Vm.Elf;

namespace VethXdp.Kernel.Tests;

public partial class KernelLogTests
{
    [SkippableFact]
    public void Load_LogLevel2AndStatsWithLineInfo_IsTheReferenceLog()
    {
        KernelSkip.IfNotPermitted();
        Skip.If(TestPaths.ReferenceDir is null, "../shared/reference is absent");
        var obj = ElfObjectReader.Load(Path.Combine(TestPaths.CorpusDir, "xdp", "sample_xdp.v4.o"));
        using var loaded = KernelObject.Load(obj, new KernelLoadOptions { LogLevel = 2 | 4 });
        Assert.True(loaded.HasBtf, loaded.BtfError);
        string log = loaded.ProgramLog("xdp_prog");
        Assert.Contains("; if (v) (*v)++; @ sample_xdp.c:22", log);

        string reference = File.ReadAllText(Path.Combine(TestPaths.ReferenceDir!, "sample_xdp.verifier-log2.txt"));
        reference = string.Join('\n', reference.Split('\n').Where(l => !l.StartsWith('#')));
        Assert.Equal(Normalize(reference), Normalize(log));
    }

    // Map addresses and timings differ from load to load.
    private static string Normalize(string log) =>
        Timing().Replace(MapAddress().Replace(log.Trim(), "0xMAP"), "verification time N usec");

    [GeneratedRegex("0xffff[0-9a-f]{12}")]
    private static partial Regex MapAddress();

    [GeneratedRegex(@"verification time \d+ usec")]
    private static partial Regex Timing();
}
