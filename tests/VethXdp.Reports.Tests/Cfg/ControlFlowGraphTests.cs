using VethXdp.Reports.Cfg;
using VethXdp.Vm.Isa;

namespace VethXdp.Reports.Tests.Cfg;

public class ControlFlowGraphTests
{
    [Fact]
    public void Build_LoopObject_PartitionsAtJumpTargetsAndAfterJumps()
    {
        var g = ControlFlowGraph.Build(Corpus.Program("xdp_loops.v4.o", "xdp_loops"));

        // From xdp_loops.v4.objdump: the main function's jumps go to 23 (the loop header, from 34), 35 (the loop exit,
        // from 23) and 103 (the shared exit); each jump also ends its block. add_word follows at 104 (.text + 104),
        // with jumps to 116, 124 and 140.
        int[] expected =
        [
            0, 7, 13, 17, 20, 23, 24, 30, 35, 45, 48, 53, 56, 82, 102, 103,
            104, 113, 116, 120, 123, 124, 129, 140,
        ];
        Assert.Equal(expected, g.Blocks.Select(b => b.Start));
        Assert.Equal(["xdp_loops", "add_word"], g.Functions.Select(f => f.Name));
        Assert.Equal(104, g.Functions[1].Start);
        Assert.All(g.Blocks, b => Assert.Equal(b.Start >= 104 ? 1 : 0, b.Function));
    }

    [Fact]
    public void Build_LoopObject_HasTheBackEdgeAndTheCallback()
    {
        var g = ControlFlowGraph.Build(Corpus.Program("xdp_loops.v4.o", "xdp_loops"));

        // 34: if r7 != 0x3c goto pc-12: taken back to the loop header at 23, fall-through to 35.
        int latch = g.BlockAt(34);
        Assert.Contains(new CfgEdge(latch, g.BlockAt(23), CfgEdgeKind.Taken, 34), g.Edges);
        Assert.Contains(new CfgEdge(latch, g.BlockAt(35), CfgEdgeKind.FallThrough, 34), g.Edges);

        // 87: r2 = func add_word (a 64-bit load of the callback's address for bpf_loop).
        Assert.Contains(new CfgEdge(g.BlockAt(87), g.BlockAt(104), CfgEdgeKind.Callback, 87), g.Edges);
        Assert.Equal("r2 = func add_word", g.InstructionText(87));
        Assert.Null(g.InstructionText(88));
    }

    [Fact]
    public void Build_Subprograms_CallsGoToFunctionEntriesAndDoNotEndBlocks()
    {
        var g = ControlFlowGraph.Build(Corpus.Program("xdp_subprogs.v4.o", "xdp_subprogs"));

        Assert.Equal(["xdp_subprogs", "parse_l3", "parse_ipv4", "parse_ports", "flow_hash", "classify"], g.Functions.Select(f => f.Name));
        var calls = g.Edges.Where(e => e.Kind == CfgEdgeKind.Call).ToList();
        var pairs = calls.Select(e => (g.Functions[g.Blocks[e.From].Function].Name, g.Functions[g.Blocks[e.To].Function].Name)).ToHashSet();
        Assert.Equal(
            new HashSet<(string, string)>
            {
                ("xdp_subprogs", "parse_l3"), ("xdp_subprogs", "flow_hash"), ("xdp_subprogs", "classify"),
                ("parse_l3", "parse_ipv4"), ("parse_ipv4", "parse_ports"),
            },
            pairs);
        foreach (var e in calls)
        {
            var callee = g.Functions[g.Blocks[e.To].Function];
            Assert.Equal(callee.Start, g.Blocks[e.To].Start);
            Assert.Equal(callee.Blocks[0], e.To);
            var insn = g.Slots[e.Slot];
            Assert.True(insn.Opcode == Op.Call && insn.SrcReg == (int)CallKind.Local);
            if (g.Slots[e.Slot + 1].Opcode != Op.Exit && e.Slot + 1 < g.Blocks[e.From].End)
            {
                Assert.Equal(e.From, g.BlockAt(e.Slot + 1));
            }
        }

        // 11: call parse_l3, 12: w1 = w0 (its result): one block.
        Assert.Equal(g.BlockAt(11), g.BlockAt(12));
    }

    [Theory]
    [MemberData(nameof(Corpus.V4Programs), MemberType = typeof(Corpus))]
    public void Build_CorpusProgram_BlocksTileTheProgramAndEndAtFlowChanges(string objectName, string program)
    {
        var spec = Corpus.Program(objectName, program);
        var g = ControlFlowGraph.Build(spec);

        Assert.Equal(0, g.Blocks[0].Start);
        Assert.Equal(spec.Slots.Count, g.Blocks[^1].End);
        for (int i = 0; i < g.Blocks.Count; i++)
        {
            var b = g.Blocks[i];
            Assert.Equal(i, b.Index);
            Assert.True(b.Length > 0);
            if (i > 0)
            {
                Assert.Equal(g.Blocks[i - 1].End, b.Start);
            }

            // Only the last instruction of a block may jump or exit.
            int last = b.Start;
            for (int pc = b.Start; pc < b.End; pc++)
            {
                last = g.InstructionText(pc) is null ? last : pc;
            }

            for (int pc = b.Start; pc < last; pc++)
            {
                var insn = g.Slots[pc];
                bool endsFlow = g.InstructionText(pc) is not null && insn.Class is OpClass.Jmp or OpClass.Jmp32 && insn.JmpOp != JmpOp.Call;
                Assert.False(endsFlow, $"insn {pc} changes the flow inside block {i}");
            }
        }

        // Every jump target and every function entry starts a block, and every jump has its edge.
        for (int pc = 0; pc < g.Slots.Length; pc++)
        {
            var insn = g.Slots[pc];
            if (g.InstructionText(pc) is null || insn.Class is not (OpClass.Jmp or OpClass.Jmp32) || insn.JmpOp is JmpOp.Call or JmpOp.Exit)
            {
                continue;
            }

            int target = pc + 1 + (insn.Opcode == Op.Ja32 ? insn.Imm : insn.Offset);
            Assert.Equal(target, g.Blocks[g.BlockAt(target)].Start);
            Assert.Contains(g.Edges, e => e.Slot == pc && e.To == g.BlockAt(target) && e.Kind is CfgEdgeKind.Taken or CfgEdgeKind.Jump);
        }

        foreach (var f in g.Functions)
        {
            Assert.Equal(f.Start, g.Blocks[f.Blocks[0]].Start);
        }
    }

    [Fact]
    public void BlockText_SourceLines_PrecedeTheirInstructions()
    {
        var g = ControlFlowGraph.Build(Corpus.Program("xdp_loops.v4.o", "xdp_loops"));

        var lines = g.BlockText(g.BlockAt(30));
        Assert.Equal("; sum += bpf_ntohs(*w); @ xdp_loops.c:86", lines[0].Text);
        Assert.True(lines[0].IsSource);
        Assert.Equal("  30: r0 = *(u16 *)(r8 +14)", lines[1].Text);
        Assert.False(lines[1].IsSource);
    }

    [Fact]
    public void Build_BareSlots_FindsFunctionsFromCalls()
    {
        var g = ControlFlowGraph.Build("bare", Assembler.Assemble("""
            call pc+1
            exit
            r0 = 1
            exit
            """));

        Assert.Equal(["bare", "func@2"], g.Functions.Select(f => f.Name));
        Assert.Equal([0, 2], g.Blocks.Select(b => b.Start));
        Assert.Equal([new CfgEdge(0, 1, CfgEdgeKind.Call, 0)], g.Edges);
    }
}
