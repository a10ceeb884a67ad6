using System.Globalization;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Programs;

namespace VethXdp.Reports.Cfg;

/// <summary>The control-flow graph of a linked program: basic blocks, the jumps between them, and the calls from
/// blocks into subprograms (each function is a cluster of blocks).</summary>
/// <remarks>Leaders are slot 0, every function's entry, every jump target and the slot after every jump or exit.
/// Calls do not end a block (the callee returns to the next instruction); they become <see cref="CfgEdgeKind.Call"/>
/// edges to the callee's entry block, as a 64-bit load of a function's address becomes a
/// <see cref="CfgEdgeKind.Callback"/> edge. Jumps to slots outside the program or into the middle of a 64-bit load
/// (which the verifier refuses) get no edge.</remarks>
public sealed class ControlFlowGraph
{
    private readonly int[] _blockOfSlot;
    private readonly Instruction[] _slots;
    private readonly string?[] _text;

    private ControlFlowGraph(string name, Instruction[] slots, string?[] text, SourceLines? source, List<BasicBlock> blocks, List<CfgEdge> edges, List<CfgFunction> functions, int[] blockOfSlot)
    {
        Name = name;
        _slots = slots;
        _text = text;
        Source = source;
        Blocks = blocks;
        Edges = edges;
        Functions = functions;
        _blockOfSlot = blockOfSlot;
    }

    /// <summary>The program's name.</summary>
    public string Name { get; }

    /// <summary>The slots.</summary>
    public ReadOnlySpan<Instruction> Slots => _slots;

    /// <summary>The blocks, in slot order.</summary>
    public IReadOnlyList<BasicBlock> Blocks { get; }

    /// <summary>The edges: per block, the fall-through or next edge first, then the taken or jump edge, then calls
    /// in slot order.</summary>
    public IReadOnlyList<CfgEdge> Edges { get; }

    /// <summary>The functions, in slot order; the first is the program's own.</summary>
    public IReadOnlyList<CfgFunction> Functions { get; }

    /// <summary>Source lines, when the program has BTF line_info.</summary>
    public SourceLines? Source { get; }

    /// <summary>The graph of a linked program, with its functions and source lines.</summary>
    /// <param name="spec">The program.</param>
    /// <param name="mapName">The name of map index i (for <c>r1 = map[flows]</c>), or null.</param>
    public static ControlFlowGraph Build(ProgramSpec spec, Func<int, string?>? mapName = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var slots = spec.Slots.ToArray();
        return Build(spec.Name, slots, spec.Functions, new SourceLines(spec), mapName);
    }

    /// <summary>The graph of bare slots (a hand-assembled program): functions are found from the calls.</summary>
    /// <param name="name">The program's name.</param>
    /// <param name="slots">The slots.</param>
    /// <param name="functions">The functions, or null to derive them from call targets and function loads.</param>
    public static ControlFlowGraph Build(string name, ReadOnlySpan<Instruction> slots, IReadOnlyList<FunctionInfo>? functions = null) =>
        Build(name, slots.ToArray(), functions ?? [], null, null);

    /// <summary>The block that holds <paramref name="slot"/>.</summary>
    public int BlockAt(int slot)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(slot, _blockOfSlot.Length);
        return _blockOfSlot[slot];
    }

    /// <summary>The text of the instruction at <paramref name="slot"/> (kernel syntax, maps and functions by name);
    /// null for the second slot of a 64-bit load.</summary>
    public string? InstructionText(int slot) => _text[slot];

    /// <summary>The lines a picture shows for a block: each instruction (<c>  12: text</c>), preceded by its source line
    /// (<c>; text @ file.c:51</c>) where a new one starts; lines longer than <paramref name="maxChars"/> are cut with '…'.</summary>
    public IReadOnlyList<CfgTextLine> BlockText(int block, int maxChars = 72)
    {
        var b = Blocks[block];
        var lines = new List<CfgTextLine>(b.Length + 2);
        LineInfo? shown = null;
        for (int pc = b.Start; pc < b.End; pc++)
        {
            if (_text[pc] is not { } text)
            {
                continue;
            }

            if (Source?.LineAt(pc) is { } line && (shown is null || line.Line != shown.Line || line.File != shown.File))
            {
                shown = line;
                lines.Add(new CfgTextLine(Cut("; " + line.Text.Replace('\t', ' ').Trim() + " @ " + SourceLines.Location(line), maxChars), IsSource: true, pc));
            }

            lines.Add(new CfgTextLine(Cut(string.Create(CultureInfo.InvariantCulture, $"{pc,4}: {text}"), maxChars), IsSource: false, pc));
        }

        return lines;
    }

    private static string Cut(string s, int maxChars) =>
        s.Length <= maxChars || maxChars < 2 ? s : string.Concat(s.AsSpan(0, maxChars - 1), "…");

    private static ControlFlowGraph Build(string name, Instruction[] slots, IReadOnlyList<FunctionInfo> functions, SourceLines? source, Func<int, string?>? mapName)
    {
        int n = slots.Length;
        var isStart = new bool[n];
        for (int pc = 0; pc < n; pc++)
        {
            isStart[pc] = true;
            if (slots[pc].Opcode == Op.LdDw)
            {
                pc++;
            }
        }

        bool Valid(int slot) => (uint)slot < (uint)n && isStart[slot];

        // Function entries: the given ones, or slot 0 and every call or function-load target.
        var entries = new SortedDictionary<int, string>();
        foreach (var f in functions)
        {
            if (Valid(f.StartSlot))
            {
                entries.TryAdd(f.StartSlot, f.Name);
            }
        }

        if (n > 0)
        {
            entries.TryAdd(0, name);
        }

        for (int pc = 0; pc < n; pc++)
        {
            if (!isStart[pc])
            {
                continue;
            }

            if (CallTarget(slots, pc) is int t && Valid(t))
            {
                entries.TryAdd(t, string.Create(CultureInfo.InvariantCulture, $"func@{t}"));
            }
        }

        // Leaders.
        var leader = new bool[n];
        foreach (int e in entries.Keys)
        {
            leader[e] = true;
        }

        for (int pc = 0; pc < n; pc++)
        {
            if (!isStart[pc])
            {
                continue;
            }

            var (kind, target) = Flow(slots[pc], pc);
            if (kind == FlowEnd.None)
            {
                continue;
            }

            if (kind != FlowEnd.Exit && Valid(target))
            {
                leader[target] = true;
            }

            int next = pc + 1;
            if (next < n)
            {
                leader[next] = true;
            }
        }

        // Blocks: maximal runs between leaders.
        var blocks = new List<BasicBlock>();
        var blockOf = new int[n];
        var entryList = entries.ToArray();
        int fn = -1;
        int start = 0;
        for (int pc = 0; pc <= n; pc++)
        {
            if (pc == n || (pc > start && leader[pc] && isStart[pc]))
            {
                if (pc > start)
                {
                    while (fn + 1 < entryList.Length && entryList[fn + 1].Key <= start)
                    {
                        fn++;
                    }

                    blocks.Add(new BasicBlock(blocks.Count, start, pc, Math.Max(fn, 0)));
                }

                start = pc;
            }

            if (pc < n)
            {
                blockOf[pc] = blocks.Count;
            }
        }

        // Edges.
        var edges = new List<CfgEdge>();
        foreach (var b in blocks)
        {
            int last = b.Start;
            for (int pc = b.Start; pc < b.End; pc++)
            {
                if (!isStart[pc])
                {
                    continue;
                }

                last = pc;
            }

            var (kind, target) = Flow(slots[last], last);
            switch (kind)
            {
                case FlowEnd.Conditional:
                    if (last + 1 < n)
                    {
                        edges.Add(new CfgEdge(b.Index, blockOf[last + 1], CfgEdgeKind.FallThrough, last));
                    }

                    if (Valid(target))
                    {
                        edges.Add(new CfgEdge(b.Index, blockOf[target], CfgEdgeKind.Taken, last));
                    }

                    break;
                case FlowEnd.Jump:
                    if (Valid(target))
                    {
                        edges.Add(new CfgEdge(b.Index, blockOf[target], CfgEdgeKind.Jump, last));
                    }

                    break;
                case FlowEnd.Exit:
                    break;
                default:
                    if (b.End < n)
                    {
                        edges.Add(new CfgEdge(b.Index, blockOf[b.End], CfgEdgeKind.Next, last));
                    }

                    break;
            }

            for (int pc = b.Start; pc < b.End; pc++)
            {
                if (isStart[pc] && CallTarget(slots, pc) is int t && Valid(t))
                {
                    var k = slots[pc].Opcode == Op.LdDw ? CfgEdgeKind.Callback : CfgEdgeKind.Call;
                    edges.Add(new CfgEdge(b.Index, blockOf[t], k, pc));
                }
            }
        }

        var fns = new List<CfgFunction>(entryList.Length);
        for (int i = 0; i < entryList.Length; i++)
        {
            int end = i + 1 < entryList.Length ? entryList[i + 1].Key : n;
            var members = new List<int>();
            foreach (var b in blocks)
            {
                if (b.Function == i)
                {
                    members.Add(b.Index);
                }
            }

            fns.Add(new CfgFunction(i, entryList[i].Value, entryList[i].Key, end, members));
        }

        var text = Reports.InstructionText.FormatAll(slots, mapName, s => entries.GetValueOrDefault(s));
        return new ControlFlowGraph(name, slots, text, source, blocks, edges, fns, blockOf);
    }

    private enum FlowEnd
    {
        None,
        Conditional,
        Jump,
        Exit,
    }

    // How an instruction ends a block, and its jump target.
    private static (FlowEnd Kind, int Target) Flow(Instruction insn, int pc)
    {
        if (insn.Class is not (OpClass.Jmp or OpClass.Jmp32))
        {
            return (FlowEnd.None, 0);
        }

        switch (insn.JmpOp)
        {
            case JmpOp.Call:
                return (FlowEnd.None, 0);
            case JmpOp.Exit:
                return (FlowEnd.Exit, 0);
            case JmpOp.Ja:
                // gotol (JMP32 | JA) keeps its 32-bit offset in imm.
                return (FlowEnd.Jump, pc + 1 + (insn.Class == OpClass.Jmp32 ? insn.Imm : insn.Offset));
            default:
                return (FlowEnd.Conditional, pc + 1 + insn.Offset);
        }
    }

    // The function a BPF-to-BPF call or a function-address load refers to.
    private static int? CallTarget(Instruction[] slots, int pc)
    {
        var insn = slots[pc];
        if (insn.Opcode == Op.Call && insn.SrcReg == (int)CallKind.Local)
        {
            return pc + 1 + insn.Imm;
        }

        if (insn.Opcode == Op.LdDw && insn.SrcReg == (int)PseudoSrc.Func)
        {
            return pc + 1 + insn.Imm;
        }

        return null;
    }
}
