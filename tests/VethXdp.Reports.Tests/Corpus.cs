using VethXdp.Vm.Elf;
using VethXdp.Vm.Programs;

namespace VethXdp.Reports.Tests;

/// <summary>Corpus objects for the report tests.</summary>
internal static class Corpus
{
    public static string Object(string name) => Path.Combine(TestPaths.CorpusDir, "xdp", name);

    public static string Pcap(string name) => Path.Combine(TestPaths.CorpusDir, "pcaps", name);

    public static BpfObject Load(string name) => ElfObjectReader.Load(Object(name));

    public static ProgramSpec Program(string objectName, string program) =>
        Load(objectName).FindProgram(program) ?? throw new InvalidOperationException($"{objectName} has no program {program}");

    /// <summary>Every v4 object of the corpus, with each of its programs.</summary>
    public static TheoryData<string, string> V4Programs()
    {
        var data = new TheoryData<string, string>();
        foreach (var path in Directory.GetFiles(Path.Combine(TestPaths.CorpusDir, "xdp"), "*.v4.o").OrderBy(p => p, StringComparer.Ordinal))
        {
            var obj = ElfObjectReader.Load(path);
            foreach (var p in obj.Programs)
            {
                data.Add(Path.GetFileName(path), p.Name);
            }
        }

        return data;
    }
}
