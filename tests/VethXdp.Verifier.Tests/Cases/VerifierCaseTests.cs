using System.Text;
using VethXdp.Verifier;
using VethXdp.Verifier.Log;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;
using Xunit.Abstractions;

namespace VethXdp.Verifier.Tests.Cases;

/// <summary>Our verifier against corpus/verifier/: every case's expectation was confirmed by the running kernel
/// (tests/VethXdp.Kernel.Tests/VerifierCaseKernelTests), so agreeing with the case is agreeing with Linux.</summary>
public sealed class VerifierCaseTests(ITestOutputHelper output)
{
    internal static VerificationResult Verify(VerifierCase c, VerifierLogLevel level = VerifierLogLevel.Level1)
    {
        var maps = c.Maps.Select(m => new MapSpec
        {
            Name = m.Name,
            Type = m.Type,
            KeySize = m.KeySize,
            ValueSize = m.ValueSize,
            MaxEntries = m.MaxEntries,
            Flags = m.Flags,
        }).ToList();
        var spec = new ProgramSpec
        {
            Name = c.Name,
            SectionName = string.Empty,
            Type = c.ProgType,
            ExpectedAttachType = (uint)c.Attach,
            Slots = c.Slots.ToArray(),
        };
        return BpfVerifier.Verify(spec, maps, new VerifierOptions { LogLevel = level, StrictAlignment = (c.ProgFlags & 1) != 0 });
    }

    public static TheoryData<string> Ids() => new(VerifierCase.Ids());

    // Safety: a program Linux rejects for an unsafe access (EACCES) must never be accepted by us.
    [Theory]
    [MemberData(nameof(Ids))]
    public void Verify_UnsafeCase_IsNeverAccepted(string id)
    {
        var c = VerifierCase.LoadById(id);
        if (c.Accept || c.Errno != "EACCES")
        {
            return;
        }

        var r = Verify(c);
        Assert.False(r.Accepted, $"{id}: Linux rejects ({c.Msg}) but we accept");
    }

    // The summary: decisions and messages against Linux, printed; asserts the agreement does not fall below what
    // this verifier reached when the test was written (raise the floor as it improves).
    [Fact]
    public void Verify_AllCases_AgreementReport()
    {
        int decision = 0, message = 0, total = 0, falseAccept = 0;
        var bad = new StringBuilder();
        foreach (var c in VerifierCase.LoadAll())
        {
            total++;
            if (Environment.GetEnvironmentVariable("VETHXDP_TRACE_CASES") is { } traceFile)
            {
                File.AppendAllText(traceFile, c.Id + "\n");
            }

            VerificationResult r;
            try
            {
                r = Verify(c);
            }
            catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
            {
                bad.AppendLine($"CRASH {c.Id}: {ex.GetType().Name}: {ex.Message}");
                continue;
            }

            if (r.Accepted == c.Accept)
            {
                decision++;
                if (c.Accept || (c.Msg is not null && r.Log.Contains(c.Msg, StringComparison.Ordinal)))
                {
                    message++;
                }
                else
                {
                    bad.AppendLine($"MSG {c.Id}: want '{c.Msg}' got '{r.Error?.Message}'");
                }
            }
            else
            {
                if (r.Accepted)
                {
                    falseAccept++;
                }

                bad.AppendLine($"{(r.Accepted ? "FALSE-ACCEPT" : "FALSE-REJECT")} {c.Id}: want {(c.Accept ? "accept" : c.Msg)} got {r.Error?.Message}");
            }
        }

        output.WriteLine($"decision {decision}/{total}, decision+message {message}/{total}, false accepts {falseAccept}");
        output.WriteLine(bad.ToString());
        Assert.True(total >= 320);
        Assert.DoesNotContain("CRASH", bad.ToString(), StringComparison.Ordinal);
        Assert.True(decision * 100 >= total * 97, $"decision agreement {decision}/{total} fell below 97%\n{bad}");
    }
}
