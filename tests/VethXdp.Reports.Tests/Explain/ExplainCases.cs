using VethXdp.Reports.Explain;
using VethXdp.Verifier;
using VethXdp.Verifier.Log;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;

namespace VethXdp.Reports.Tests.Explain;

/// <summary>Small programs for the explain tests: corpus verifier cases, assembled text, corpus objects.</summary>
internal static class ExplainCases
{
    public static (ProgramSpec Spec, IReadOnlyList<MapSpec> Maps) FromCase(string id)
    {
        var c = VerifierCase.LoadById(id);
        var maps = c.Maps.Select(m => new MapSpec
        {
            Name = m.Name,
            Type = m.Type,
            KeySize = m.KeySize,
            ValueSize = m.ValueSize,
            MaxEntries = m.MaxEntries,
            Flags = m.Flags,
        }).ToArray();
        var spec = new ProgramSpec
        {
            Name = c.Name,
            SectionName = string.Empty,
            Type = c.ProgType,
            ExpectedAttachType = (uint)c.Attach,
            Slots = c.Slots.ToArray(),
        };
        return (spec, maps);
    }

    public static ProgramSpec FromAsm(string asm, string name = "prog") => new()
    {
        Name = name,
        SectionName = "xdp",
        Type = ProgramType.Xdp,
        Slots = Assembler.Assemble(asm),
    };

    public static ExplainHint Hint(ProgramSpec spec, IReadOnlyList<MapSpec>? maps = null)
    {
        maps ??= [];
        var result = BpfVerifier.Verify(spec, maps, new VerifierOptions { LogLevel = VerifierLogLevel.Level1 });
        Assert.False(result.Accepted, "the program was expected to be rejected");
        var hint = ExplainHints.Build(spec, result, i => (uint)i < (uint)maps.Count ? maps[i].Name : null);
        Assert.NotNull(hint);
        return hint!;
    }

    public static ExplainHint Hint(string caseId)
    {
        var (spec, maps) = FromCase(caseId);
        return Hint(spec, maps);
    }

    /// <summary>A chain of conditional jumps whose outcomes the verifier cannot predict, longer than the pending-branch
    /// limit (BPF_COMPLEXITY_LIMIT_JMP_SEQ, 8192).</summary>
    public static string JumpChain(int jumps)
    {
        var sb = new System.Text.StringBuilder();
        sb.Append("r5 = *(u32 *)(r1 +16)\n");
        for (int i = 0; i < jumps; i++)
        {
            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"if r5 == {i} goto out\n");
        }

        sb.Append("r0 = 2\nexit\nout:\nr0 = 1\nexit\n");
        return sb.ToString();
    }
}
