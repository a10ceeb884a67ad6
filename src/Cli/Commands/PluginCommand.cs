using System.CommandLine;
using VethXdp.Vm.Conformance;
using VethXdp.Vm.Elf;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Text;

namespace VethXdp.Cli.Commands;

/// <summary><c>vethxdp plugin [HEXMEM] [--engine interp] [--elf]</c>: the bpf_conformance plugin protocol.</summary>
/// <remarks>The runner passes the input memory as base16 text in the first argument (only when the test has
/// memory), then its plugin options, then <c>--elf</c> when it sends an ELF object. The program arrives on
/// standard input as base16 text. We print r0 as <c>0x</c>-prefixed hex and exit 0, or one line on standard
/// error and exit 2.</remarks>
internal static class PluginCommand
{
    public static Command Create()
    {
        var memory = new Argument<string?>("HEXMEM") { Description = "Input memory as base16 text.", Arity = ArgumentArity.ZeroOrOne };
        var elf = new Option<bool>("--elf") { Description = "Standard input holds an ELF object (code in .text as main, or in section xdp)." };
        var engine = Engines.Option();
        var debug = new Option<bool>("--debug") { Description = "Describe the request on standard error." };
        var cmd = new Command("plugin", "Run one bpf_conformance test as the runner's plugin; the program comes on standard input.")
        {
            memory, elf, engine, debug,
        };
        cmd.SetAction(p => Run(p.GetValue(memory), p.GetValue(elf), p.GetValue(engine) ?? Engines.Interpreter, p.GetValue(debug)));
        return cmd;
    }

    /// <summary>Splits plugin options that arrive as one argument ("--engine interp"), as some runner versions pass them.</summary>
    public static string[] NormalizeArguments(string[] args)
    {
        if (args.Length == 0 || args[0] != "plugin")
        {
            return args;
        }

        var result = new List<string>(args.Length + 2);
        foreach (var a in args)
        {
            if (a.StartsWith("--", StringComparison.Ordinal) && a.AsSpan().IndexOfAny(' ', '\t') > 0)
            {
                result.AddRange(a.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries));
            }
            else
            {
                result.Add(a);
            }
        }

        return [.. result];
    }

    private static int Run(string? memoryHex, bool elf, string engine, bool debug)
    {
        Engines.Check(engine);
        byte[] memory = string.IsNullOrWhiteSpace(memoryHex) ? [] : HexText.Parse(memoryHex, "memory argument");
        string input = Console.In.ReadToEnd();
        byte[] program = HexText.Parse(input, "program on standard input");
        if (program.Length == 0)
        {
            throw new CliError("no program on standard input");
        }

        PluginRequest request;
        try
        {
            request = PluginRequest.Decode(program, elf);
        }
        catch (BpfFormatException ex)
        {
            throw new CliError($"program on standard input: {ex.Message}", ex);
        }

        if (debug)
        {
            Console.Error.WriteLine($"plugin: {request.Kind}, {request.Program.Length} slots, {memory.Length} bytes of memory");
        }

        // A conformance program has no program type, so it cannot be verified: interp unless an engine is named, and
        // jit is refused (naming jit-checked).
        ulong r0 = request.Run(memory, null, Engines.Factory(engine, request.Program.Name));
        Console.Out.WriteLine($"0x{r0:x}");
        return ExitCode.Ok;
    }
}
