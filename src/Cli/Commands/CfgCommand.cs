using System.CommandLine;
using VethXdp.Reports.Cfg;
using VethXdp.Vm.Isa;

namespace VethXdp.Cli.Commands;

/// <summary><c>vethxdp cfg OBJ [--prog NAME] -o FILE.svg|FILE.dot</c>: the control-flow graph of a linked program.</summary>
internal static class CfgCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("OBJ") { Description = "A clang-compiled BPF object (.o); also raw bytecode, a .s file or a conformance .data file." };
        var prog = new Option<string?>("--prog") { Description = "The program (its function name); needed when the object has several." };
        var output = new Option<string>("-o", "--output") { Description = "The picture: FILE.svg (drawn by vethxdp's own layout) or FILE.dot (Graphviz text).", Required = true };
        var cmd = new Command("cfg", "Draw the control-flow graph of a program: a box per basic block with its instructions and source lines, edges labelled taken / fall-through, calls dashed.")
        {
            file, prog, output,
        };
        cmd.SetAction(p => Run(p.GetValue(file)!, p.GetValue(prog), p.GetValue(output)!));
        return cmd;
    }

    private static int Run(string path, string? prog, string outPath)
    {
        string ext = Path.GetExtension(outPath).ToLowerInvariant();
        if (ext is not (".svg" or ".dot"))
        {
            throw new CliError($"-o {outPath}: the picture must be a .svg or a .dot file");
        }

        var graph = Load(path, prog);
        string text = ext == ".svg" ? CfgSvgWriter.Render(graph) : CfgDotWriter.Render(graph);
        File.WriteAllText(outPath, text);
        Console.Out.WriteLine($"{outPath}: {graph.Blocks.Count} blocks, {graph.Edges.Count} edges, {graph.Functions.Count} function{(graph.Functions.Count == 1 ? string.Empty : "s")}");
        return ExitCode.Ok;
    }

    private static ControlFlowGraph Load(string path, string? prog)
    {
        var bytes = InputFiles.ReadBytes(path);
        if (InputFiles.IsElf(bytes))
        {
            var obj = InputFiles.LoadElf(path, bytes);
            var names = obj.Programs.Select(p => p.Name).ToArray();
            string name = prog ?? names.Length switch
            {
                1 => names[0],
                0 => throw new CliError("the object has no programs"),
                _ => throw new CliError($"the object has {names.Length} programs; choose one with --prog: {string.Join(", ", names)}"),
            };
            var spec = obj.FindProgram(name) ?? throw new CliError($"no program named \"{name}\"; the object has: {string.Join(", ", names)}");
            return ControlFlowGraph.Build(spec, i => (uint)i < (uint)obj.Maps.Count ? obj.Maps[i].Name : null);
        }

        if (prog is not null)
        {
            throw new CliError("--prog needs an ELF object");
        }

        Instruction[] slots = Path.GetExtension(path) switch
        {
            ".s" => InputFiles.Assemble(path),
            ".data" => [.. InputFiles.LoadConformance(path).Slots],
            _ => InputFiles.ReadRawSlots(path, bytes),
        };
        return ControlFlowGraph.Build(Path.GetFileNameWithoutExtension(path), slots);
    }
}
