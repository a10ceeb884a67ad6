using System.CommandLine;
using System.Text.Json;
using VethXdp.Vm.Elf;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Text;

namespace VethXdp.Cli.Commands;

/// <summary><c>vethxdp disasm FILE [--json]</c>: llvm-objdump-19's listing of raw bytecode or an ELF object.</summary>
internal static class DisasmCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "An ELF object, raw bytecode (binary or hex text), a .s file or a conformance .data file." };
        var json = new Option<bool>("--json") { Description = "Print sections and instructions as JSON (llvm and kernel text)." };
        var cmd = new Command("disasm", "Disassemble as llvm-objdump-19 -d does.") { file, json };
        cmd.SetAction(p => Run(p.GetValue(file)!, p.GetValue(json)));
        return cmd;
    }

    private static int Run(string path, bool json)
    {
        var bytes = InputFiles.ReadBytes(path);
        if (InputFiles.IsElf(bytes))
        {
            var obj = InputFiles.LoadElf(path, bytes);
            if (json)
            {
                Json.Print(w => WriteObjectJson(w, path, obj));
            }
            else
            {
                Console.Out.Write(Disassembler.DisassembleObject(obj));
            }

            return ExitCode.Ok;
        }

        Instruction[] slots = Path.GetExtension(path) switch
        {
            ".s" => InputFiles.Assemble(path),
            ".data" => [.. InputFiles.LoadConformance(path).Slots],
            _ => InputFiles.ReadRawSlots(path, bytes),
        };
        if (json)
        {
            Json.Print(w =>
            {
                w.WriteStartObject();
                w.WriteString("file", path);
                w.WriteStartArray("sections");
                WriteSection(w, "(raw)", slots, _ => null);
                w.WriteEndArray();
                w.WriteEndObject();
            });
        }
        else
        {
            Console.Out.Write(Disassembler.DisassembleRaw(slots));
        }

        return ExitCode.Ok;
    }

    private static void WriteObjectJson(Utf8JsonWriter w, string path, BpfObject obj)
    {
        w.WriteStartObject();
        w.WriteString("file", path);
        if (obj.License is not null)
        {
            w.WriteString("license", obj.License);
        }

        w.WriteStartArray("sections");
        foreach (var section in obj.Sections.Where(s => s.SlotCount > 0))
        {
            var functions = obj.Functions.Where(f => f.SectionName == section.Name).OrderBy(f => f.StartSlot).ToArray();
            WriteSection(w, section.Name, [.. section.Slots], pc =>
            {
                var f = functions.LastOrDefault(x => x.StartSlot <= pc);
                return f is null ? null : f.StartSlot == pc ? $"<{f.Name}>" : $"<{f.Name}+0x{(pc - f.StartSlot) * 8:x}>";
            }, functions);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteSection(Utf8JsonWriter w, string name, Instruction[] slots, Func<int, string?> label, BpfFunction[]? functions = null)
    {
        w.WriteStartObject();
        w.WriteString("name", name);
        if (functions is not null)
        {
            w.WriteStartArray("functions");
            foreach (var f in functions)
            {
                w.WriteStartObject();
                w.WriteString("name", f.Name);
                w.WriteNumber("start", f.StartSlot);
                w.WriteNumber("slots", f.SlotCount);
                w.WriteBoolean("global", f.IsGlobal);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        w.WriteStartArray("instructions");
        for (int pc = 0; pc < slots.Length; pc++)
        {
            int n = slots[pc].IsLdImm64 && pc + 1 < slots.Length ? 2 : 1;
            var raw = BpfProgram.EncodeSlots(slots.AsSpan(pc, n));
            w.WriteStartObject();
            w.WriteNumber("pc", pc);
            w.WriteString("hex", HexText.Format(raw));
            w.WriteString("llvm", LlvmFormatter.Format(slots, pc, t => label(t) ?? string.Empty));
            w.WriteString("kernel", KernelFormatter.Format(slots, pc));
            w.WriteEndObject();
            pc += n - 1;
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }
}
