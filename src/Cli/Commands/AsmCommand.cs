using System.CommandLine;
using System.Text.Json;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Text;

namespace VethXdp.Cli.Commands;

/// <summary><c>vethxdp asm FILE [-o OUT.bin] [--json]</c>: assemble conformance or kernel syntax.</summary>
internal static class AsmCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "Assembly source (bpf_conformance or kernel syntax)." };
        var output = new Option<string?>("--output", "-o") { Description = "Write the bytecode to this file instead of hex on standard output." };
        var json = new Option<bool>("--json") { Description = "Print the instructions as JSON." };
        var cmd = new Command("asm", "Assemble a program into bytecode.") { file, output, json };
        cmd.SetAction(p => Run(p.GetValue(file)!, p.GetValue(output), p.GetValue(json)));
        return cmd;
    }

    private static int Run(string path, string? output, bool json)
    {
        var slots = InputFiles.Assemble(path);
        var bytes = BpfProgram.EncodeSlots(slots);
        if (output is not null)
        {
            File.WriteAllBytes(output, bytes);
        }

        if (json)
        {
            Json.Print(w => WriteJson(w, path, slots, bytes));
        }
        else if (output is null)
        {
            for (int pc = 0; pc < slots.Length; pc++)
            {
                Console.Out.WriteLine(HexText.Format(bytes.AsSpan(pc * 8, 8)));
            }
        }

        return ExitCode.Ok;
    }

    private static void WriteJson(Utf8JsonWriter w, string path, Instruction[] slots, byte[] bytes)
    {
        w.WriteStartObject();
        w.WriteString("file", path);
        w.WriteNumber("slots", slots.Length);
        w.WriteStartArray("instructions");
        for (int pc = 0; pc < slots.Length; pc++)
        {
            int n = slots[pc].IsLdImm64 && pc + 1 < slots.Length ? 2 : 1;
            w.WriteStartObject();
            w.WriteNumber("pc", pc);
            w.WriteString("hex", HexText.Format(bytes.AsSpan(pc * 8, n * 8)));
            w.WriteString("text", KernelFormatter.Format(slots, pc));
            w.WriteEndObject();
            pc += n - 1;
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }
}
