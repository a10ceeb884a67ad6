using System.CommandLine;
using VethXdp.Jit;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Programs;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Text;

namespace VethXdp.Cli.Commands;

/// <summary><c>vethxdp exec FILE [--mem HEX] [--engine interp|jit-checked|jit] [--unverified] [--dump-il] [--json]</c>: run a program once and print r0.</summary>
internal static class ExecCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = ".data (bpf_conformance test), .s (assembly) or raw bytecode (binary or hex text)." };
        var mem = new Option<string?>("--mem") { Description = "Input memory as hex (whitespace between bytes optional); overrides a .data file's -- mem." };
        var engine = Engines.Option();
        var xdp = new Option<bool>("--xdp") { Description = "r1 = an XDP context (xdp_md) over the memory instead of r1 = memory, r2 = length." };
        var budget = new Option<long>("--budget") { Description = "Instruction budget.", DefaultValueFactory = _ => InterpreterOptions.DefaultInstructionBudget };
        var json = new Option<bool>("--json") { Description = "Print {\"r0\": \"0x...\"} as JSON." };
        var dumpIl = new Option<bool>("--dump-il") { Description = "With a JIT engine: write the IL listing, eBPF instructions interleaved, to standard error." };
        var unverified = Engines.UnverifiedOption();
        var cmd = new Command("exec", "Run a program once over some memory and print r0.") { file, mem, engine, unverified, xdp, budget, json, dumpIl };
        cmd.SetAction(p => Run(p.GetValue(file)!, p.GetValue(mem), p.GetValue(engine), p.GetValue(unverified), p.GetValue(xdp), p.GetValue(budget), p.GetValue(json), p.GetValue(dumpIl)));
        return cmd;
    }

    private static int Run(string path, string? memHex, string? engine, bool unverified, bool xdp, long budget, bool json, bool dumpIl)
    {
        Engines.Check(engine);
        if (dumpIl && engine == Engines.Interpreter)
        {
            throw new CliError($"--dump-il needs a JIT engine (--engine {Engines.JitChecked})");
        }

        if (budget <= 0)
        {
            throw new CliError($"--budget must be positive, not {budget}");
        }

        byte[] memory = memHex is null ? [] : HexText.Parse(memHex, "--mem");
        ulong? expected = null;
        BpfProgram program;
        if (Path.GetExtension(path) == ".data")
        {
            var test = InputFiles.LoadConformance(path);
            program = InputFiles.Validate(path, test.Slots);
            if (memHex is null)
            {
                memory = test.Memory;
            }

            expected = test.ExpectedResult;
        }
        else if (Path.GetExtension(path) == ".s")
        {
            program = InputFiles.Validate(path, InputFiles.Assemble(path));
        }
        else
        {
            var bytes = InputFiles.ReadBytes(path);
            if (InputFiles.IsElf(bytes))
            {
                throw new CliError($"{path}: running ELF objects is the 'run' command's job (issue 3); exec takes .data, .s or raw bytecode");
            }

            program = InputFiles.Validate(path, InputFiles.ReadRawSlots(path, bytes));
        }

        RunResult result;
        // With --xdp the program is verified as an XDP program (jit by default when accepted); a .data, .s or raw
        // program has no program type otherwise, so it runs on the interpreter unless an engine is named.
        var factory = Engines.Choose(program, xdp ? ProgramType.Xdp : null, engine, unverified, dumpIl ? new JitOptions { DumpIl = Console.Error } : null).Factory;
        if (dumpIl && factory is InterpreterEngineFactory)
        {
            throw new CliError($"--dump-il needs a JIT engine (--engine {Engines.JitChecked})");
        }

        using (var vm = factory.Create(new ExecutableProgram(program), HelperTable.CreateDefault(), new InterpreterOptions { InstructionBudget = budget }, null))
        {
            try
            {
                result = xdp ? vm.RunXdp(memory, 1, 0) : vm.RunWithMemory(memory);
            }
            catch (ExecutionFaultException ex)
            {
                throw new CliError($"{path}: {ex.Message}", ex);
            }
        }

        string r0 = $"0x{result.R0:x}";
        bool mismatch = expected is { } e && e != result.R0;
        if (json)
        {
            Json.Print(w =>
            {
                w.WriteStartObject();
                w.WriteString("r0", r0);
                w.WriteNumber("instructions", result.InstructionsExecuted);
                if (expected is { } x)
                {
                    w.WriteString("expected", $"0x{x:x}");
                    w.WriteBoolean("match", !mismatch);
                }

                w.WriteEndObject();
            });
        }
        else
        {
            Console.Out.WriteLine(r0);
        }

        if (mismatch)
        {
            Console.Error.WriteLine($"vethxdp: {path}: r0 is {r0}, the file expects 0x{expected!.Value:x}");
            return ExitCode.Negative;
        }

        return ExitCode.Ok;
    }
}
