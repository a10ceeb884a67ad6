using VethXdp.Reports.Cfg;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Programs;

namespace VethXdp.Reports.Tests.Cfg;

public class CfgDotWriterTests
{
    // 0-1: a branch; 2-4: a call, an add and a jump over 5; 5: the branch's target; 6: the shared exit; 7-8: the callee.
    private const string Program = """
        r0 = 0
        if r1 == 0x0 goto pc+3
        call pc+4
        r0 += 1
        goto pc+1
        r0 = 2
        exit
        r0 = 7
        exit
        """;

    [Fact]
    public void Render_SmallProgram_MatchesGolden()
    {
        var g = ControlFlowGraph.Build("golden", Assembler.Assemble(Program));

        const string expected = """
            digraph "golden" {
              graph [fontname="monospace", compound=true];
              node [shape=box, fontname="monospace", fontsize=10];
              edge [fontname="monospace", fontsize=9];
              subgraph "cluster_0" {
                label="golden";
                b0 [label="   0: r0 = 0\l   1: if r1 == 0x0 goto pc+3\l"];
                b1 [label="   2: call pc+4\l   3: r0 += 1\l   4: goto pc+1\l"];
                b2 [label="   5: r0 = 2\l"];
                b3 [label="   6: exit\l"];
              }
              subgraph "cluster_1" {
                label="func@7";
                b4 [label="   7: r0 = 7\l   8: exit\l"];
              }
              b0 -> b1 [label="fall-through", color="#c62828"];
              b0 -> b2 [label="taken", color="#1b873f"];
              b1 -> b3;
              b1 -> b4 [label="call", style=dashed, color="#1565c0"];
              b2 -> b3;
            }

            """;
        Assert.Equal(expected.ReplaceLineEndings("\n"), CfgDotWriter.Render(g));
    }

    [Fact]
    public void Render_SourceLinesWithQuotesAndBackslashes_AreEscaped()
    {
        var spec = new ProgramSpec
        {
            Name = "quoted",
            SectionName = "xdp",
            Type = ProgramType.Xdp,
            Slots = Assembler.Assemble("r0 = 2\nexit"),
            Functions = [new FunctionInfo(0, "quoted", IsGlobal: true)],
            Lines = [new LineInfo(0, "/src/dir/q.c", 7, 5, "\tif (a < b && s == \"x\\n\") return 2;")],
        };

        string dot = CfgDotWriter.Render(ControlFlowGraph.Build(spec));

        Assert.Contains("""b0 [label="; if (a < b && s == \"x\\n\") return 2; @ q.c:7\l   0: r0 = 2\l   1: exit\l"];""", dot);
    }
}
