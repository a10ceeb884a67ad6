using System.CommandLine;
using System.Text;
using VethXdp.Vm.Elf;
using VethXdp.Vm.Programs;

namespace VethXdp.Cli.Commands;

/// <summary><c>vethxdp progs OBJ [--json]</c>: the object's programs.</summary>
internal static class ProgsCommand
{
    public static Command Create()
    {
        var obj = new Argument<string>("OBJ") { Description = "A clang-compiled BPF object (.o)." };
        var json = new Option<bool>("--json") { Description = "Print the programs as JSON." };
        var cmd = new Command("progs", "List the programs of an object: sections, names, types and instruction counts.") { obj, json };
        cmd.SetAction(p => Run(p.GetValue(obj)!, p.GetValue(json)));
        return cmd;
    }

    /// <summary>libbpf's name for a program type (bpftool's "xdp", "sched_cls", ...).</summary>
    public static string TypeName(ProgramType type)
    {
        var s = type.ToString();
        var sb = new StringBuilder(s.Length + 4);
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsUpper(s[i]) && i > 0)
            {
                sb.Append('_');
            }

            sb.Append(char.ToLowerInvariant(s[i]));
        }

        return sb.ToString();
    }

    private static int Run(string path, bool json)
    {
        var bytes = InputFiles.ReadBytes(path);
        var obj = InputFiles.LoadElf(path, bytes);
        if (json)
        {
            Json.Print(w =>
            {
                w.WriteStartObject();
                w.WriteString("file", path);
                w.WriteString("license", obj.License ?? string.Empty);
                w.WriteStartArray("programs");
                foreach (var p in obj.Programs)
                {
                    w.WriteStartObject();
                    w.WriteString("name", p.Name);
                    w.WriteString("section", p.SectionName);
                    w.WriteString("type", TypeName(p.Type));
                    w.WriteNumber("expected_attach_type", p.ExpectedAttachType);
                    w.WriteNumber("insns", p.Slots.Count);
                    w.WriteBoolean("autoload", p.AutoLoad);
                    w.WriteBoolean("frags", p.Frags);
                    w.WriteStartArray("functions");
                    foreach (var f in p.Functions)
                    {
                        w.WriteStartObject();
                        w.WriteString("name", f.Name);
                        w.WriteNumber("start", f.StartSlot);
                        w.WriteBoolean("global", f.IsGlobal);
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            });
        }
        else
        {
            foreach (var p in obj.Programs)
            {
                var extra = (p.AutoLoad ? string.Empty : ", not loaded by default") + (p.Frags ? ", frags" : string.Empty);
                var subs = p.Functions.Count > 1 ? $", calls {string.Join(", ", p.Functions.Skip(1).Select(f => f.Name))}" : string.Empty;
                Console.Out.WriteLine($"{p.Name}: section {p.SectionName}, type {TypeName(p.Type)}, {p.Slots.Count} insns{subs}{extra}");
            }
        }

        return ExitCode.Ok;
    }
}
