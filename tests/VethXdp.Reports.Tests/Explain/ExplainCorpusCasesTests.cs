using System.Text;
using VethXdp.Reports.Explain;
using VethXdp.Verifier;
using VethXdp.Verifier.Log;

namespace VethXdp.Reports.Tests.Explain;

/// <summary>The hints over every rejected corpus/verifier case (the kernel-confirmed collection).</summary>
public sealed class ExplainCorpusCasesTests
{
    [Fact]
    public void Build_EveryRejectedCase_GivesAHintAndEveryClassOccurs()
    {
        var seen = new Dictionary<RejectionClass, int>();
        var problems = new StringBuilder();
        foreach (var c in VerifierCase.LoadAll())
        {
            // a million-instruction case takes seconds; its class is tested on its own
            if (c.Accept || (c.Errno == "E2BIG" && c.Msg?.Contains("too large", StringComparison.Ordinal) == true))
            {
                continue;
            }

            var (spec, maps) = ExplainCases.FromCase(c.Id);
            var result = BpfVerifier.Verify(spec, maps, new VerifierOptions { LogLevel = VerifierLogLevel.Level1 });
            if (result.Accepted)
            {
                continue;   // where we still differ from Linux, the verifier's own tests say so
            }

            var hint = ExplainHints.Build(spec, result, i => (uint)i < (uint)maps.Count ? maps[i].Name : null);
            if (hint is null || hint.What.Length == 0 || hint.Why.Length == 0 || hint.Fix.Length == 0)
            {
                problems.AppendLine($"{c.Id}: empty hint");
                continue;
            }

            if (hint.Insn >= 0 && !hint.Where.Contains($"Instruction {hint.Insn}:", StringComparison.Ordinal))
            {
                problems.AppendLine($"{c.Id}: the hint does not name instruction {hint.Insn}");
            }

            seen[hint.Class] = seen.GetValueOrDefault(hint.Class) + 1;
        }

        Assert.True(problems.Length == 0, problems.ToString());
        foreach (var cls in Enum.GetValues<RejectionClass>())
        {
            if (cls is not (RejectionClass.None or RejectionClass.ComplexityLimit))
            {
                Assert.True(seen.ContainsKey(cls), $"no rejected case is classified {cls}: {string.Join(", ", seen.Select(kv => $"{kv.Key}={kv.Value}"))}");
            }
        }
    }
}
