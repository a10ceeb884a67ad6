using VethXdp.Reports.Cfg;
using VethXdp.Verifier;
using VethXdp.Verifier.Log;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;

namespace VethXdp.Reports.Explain;

/// <summary>Everything the <c>explain</c> page shows about one program: the verdict, the hint and the failing path of
/// a rejection, what the verifier knew before each instruction, the source lines and the control-flow graph.</summary>
public sealed class ExplainReport
{
    private ExplainReport(ProgramSpec program, string? objectName, VerificationResult result, ExplainHint? hint,
        IReadOnlyList<int> path, IReadOnlyList<InsnStates>? states, string?[] text, SourceLines source, ControlFlowGraph graph)
    {
        Program = program;
        ObjectName = objectName;
        Result = result;
        Hint = hint;
        FailingPath = path;
        States = states;
        Text = text;
        Source = source;
        Graph = graph;
    }

    /// <summary>The program.</summary>
    public ProgramSpec Program { get; }

    /// <summary>The object's file name, or null.</summary>
    public string? ObjectName { get; }

    /// <summary>The verifier's answer at log level 1 (for a rejection, its log is the path to the failure).</summary>
    public VerificationResult Result { get; }

    /// <summary>The plain-language hint of a rejection, or null when accepted.</summary>
    public ExplainHint? Hint { get; }

    /// <summary>The instructions the verifier followed to the failure, in order (empty when accepted).</summary>
    public IReadOnlyList<int> FailingPath { get; }

    /// <summary>Per slot, what the verifier knew before the instruction; null when the program is too large for a
    /// level-2 log (see <see cref="ExplainOptions.MaxLevel2Insns"/>).</summary>
    public IReadOnlyList<InsnStates>? States { get; }

    /// <summary>Per slot, the instruction's text (null for the second slot of a 64-bit load).</summary>
    public IReadOnlyList<string?> Text { get; }

    /// <summary>The source lines.</summary>
    public SourceLines Source { get; }

    /// <summary>The control-flow graph.</summary>
    public ControlFlowGraph Graph { get; }

    /// <summary>Verifies <paramref name="program"/> (at level 1, then at level 2 for the states) and gathers the
    /// report.</summary>
    /// <param name="program">The linked program.</param>
    /// <param name="maps">The object's maps.</param>
    /// <param name="options">Options, or null for the defaults.</param>
    public static ExplainReport Build(ProgramSpec program, IReadOnlyList<MapSpec> maps, ExplainOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(maps);
        options ??= new ExplainOptions();
        string? MapName(int i) => (uint)i < (uint)maps.Count ? maps[i].Name : null;

        var result = BpfVerifier.Verify(program, maps, options.Verifier with { LogLevel = VerifierLogLevel.Level1 });
        var hint = ExplainHints.Build(program, result, MapName);
        var path = result.Accepted ? [] : VerifierLogParser.Path(VerifierLogParser.Parse(result.Log));

        IReadOnlyList<InsnStates>? states = null;
        if (result.Stats.InsnProcessed <= options.MaxLevel2Insns)
        {
            var full = BpfVerifier.Verify(program, maps, options.Verifier with { LogLevel = VerifierLogLevel.Level1 | VerifierLogLevel.Level2 });
            states = CollectStates(full.Log, program.Slots.Count, options.MaxStatesPerInsn);
        }

        var text = InstructionText.FormatAll(program, MapName);
        var graph = ControlFlowGraph.Build(program, MapName);
        return new ExplainReport(program, options.ObjectName, result, hint, path, states, text, new SourceLines(program), graph);
    }

    private static InsnStates[] CollectStates(string log, int slots, int maxPerInsn)
    {
        var visits = new int[slots];
        var seen = new List<string>?[slots];
        VerifierLogParser.ReplayStates(VerifierLogParser.Parse(log), (insn, state) =>
        {
            if ((uint)insn >= (uint)slots)
            {
                return;
            }

            visits[insn]++;
            var list = seen[insn] ??= [];
            if (list.Count < maxPerInsn && !list.Contains(state))
            {
                list.Add(state);
            }
        });
        var result = new InsnStates[slots];
        for (int i = 0; i < slots; i++)
        {
            result[i] = new InsnStates(visits[i], (IReadOnlyList<string>?)seen[i] ?? []);
        }

        return result;
    }
}
