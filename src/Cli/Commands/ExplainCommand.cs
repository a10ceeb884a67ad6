using System.CommandLine;
using VethXdp.Reports.Explain;
using VethXdp.Verifier;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;

namespace VethXdp.Cli.Commands;

/// <summary><c>vethxdp explain OBJ [--prog NAME] -o report.html</c>: one self-contained HTML page on what the verifier
/// says about a program: the verdict, for a rejection the failing path and a plain-language hint, the source
/// interleaved with the instructions and the states before each, and the control-flow graph.</summary>
internal static class ExplainCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("OBJ") { Description = "A clang-compiled BPF object (.o); also a .s file, a conformance .data file or raw bytecode (as --type, default xdp)." };
        var prog = new Option<string?>("--prog") { Description = "The program (its function name); needed when the object has several." };
        var type = new Option<string?>("--type") { Description = "The program type of a file that is not an ELF object (default xdp)." };
        var output = new Option<string>("-o", "--output") { Description = "The page to write (report.html).", Required = true };
        var cmd = new Command("explain", "Explain the verifier's verdict on a program in one self-contained HTML page: for a rejection, why and how to fix it.")
        {
            file, prog, type, output,
        };
        cmd.SetAction(p => Run(p.GetValue(file)!, p.GetValue(prog), p.GetValue(type), p.GetValue(output)!));
        return cmd;
    }

    private static int Run(string path, string? progName, string? typeText, string outPath)
    {
        var (spec, maps) = Load(path, progName, typeText);
        var report = ExplainReport.Build(spec, maps, new ExplainOptions { ObjectName = Path.GetFileName(path) });
        File.WriteAllText(outPath, ExplainHtmlWriter.Render(report));
        if (report.Hint is { } hint)
        {
            Console.Out.WriteLine($"{outPath}: {spec.Name} rejected at insn {hint.Insn} ({report.Result.Error!.ErrnoName}): {hint.Title}");
            return ExitCode.Negative;
        }

        Console.Out.WriteLine($"{outPath}: {spec.Name} accepted ({report.Result.Stats.InsnProcessed} insns processed)");
        return ExitCode.Ok;
    }

    private static (ProgramSpec Spec, IReadOnlyList<MapSpec> Maps) Load(string path, string? progName, string? typeText)
    {
        var bytes = InputFiles.ReadBytes(path);
        if (InputFiles.IsElf(bytes))
        {
            if (typeText is not null)
            {
                throw new CliError("--type is for files that are not ELF objects (an object names its programs' types)");
            }

            var obj = InputFiles.LoadElf(path, bytes);
            var names = obj.Programs.Select(p => p.Name).ToArray();
            string name = progName ?? names.Length switch
            {
                1 => names[0],
                0 => throw new CliError("the object has no programs"),
                _ => throw new CliError($"the object has {names.Length} programs; choose one with --prog: {string.Join(", ", names)}"),
            };
            var spec = obj.FindProgram(name) ?? throw new CliError($"no program named \"{name}\"; the object has: {string.Join(", ", names)}");
            return (spec, obj.Maps);
        }

        if (progName is not null)
        {
            throw new CliError("--prog needs an ELF object");
        }

        Instruction[] slots = Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".s" or ".asm" => InputFiles.Assemble(path),
            ".data" => [.. InputFiles.LoadConformance(path).Slots],
            _ => InputFiles.ReadRawSlots(path, bytes),
        };
        var type = typeText is null ? ProgramType.Xdp : VerifyCommand.ParseType(typeText);
        return (new ProgramSpec { Name = Path.GetFileNameWithoutExtension(path), SectionName = string.Empty, Type = type, Slots = slots }, []);
    }
}
