using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using VethXdp.Verifier;
using VethXdp.Verifier.Log;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;
using VethXdp.Vm.Runtime;

namespace VethXdp.Verifier.Tests.Properties;

/// <summary>The verifier's promise: a program it accepts never faults in the checked interpreter, whatever the packet
/// (every access stays inside the memory the run owns).</summary>
public sealed class SoundnessProperties
{
    private static readonly MapSpec s_map = XdpProgramGen.Map;

    private static ProgramSpec Spec(Instruction[] slots) => XdpProgramGen.Spec(slots);

    private static Gen<byte[]> Packet => XdpProgramGen.Packet;

    [Property(MaxTest = 1000)]
    public Property Accepted_NeverFaults_InCheckedInterpreter() =>
        Prop.ForAll(XdpProgramGen.Program.ToArbitrary(), Gen.ArrayOf(Packet, 4).ToArbitrary(), (slots, packets) =>
        {
            var spec = Spec(slots);
            var r = BpfVerifier.Verify(spec, [s_map], new VerifierOptions { LogLevel = VerifierLogLevel.None });
            if (!r.Accepted)
            {
                return true.Label("rejected");
            }

            using var obj = LoadedObject.Create([s_map], [spec]);
            using var runner = new XdpRunner(obj, "gen");
            foreach (var p in packets)
            {
                var res = runner.Run(p);
                if (res.Error is { } e)
                {
                    return false.Label($"accepted but faulted on a {p.Length}-byte packet: {e.Message}\n{Disassembler.DisassembleRaw(slots)}");
                }
            }

            return true.Label("accepted, ran clean");
        });

    // The property above is only worth something if the generator gives both verdicts often.
    [Fact]
    public void Generator_GivesAcceptedAndRejectedPrograms()
    {
        int accepted = 0, total = 0;
        foreach (var slots in XdpProgramGen.Program.Sample(300, 20))
        {
            total++;
            if (BpfVerifier.Verify(Spec(slots), [s_map], new VerifierOptions { LogLevel = VerifierLogLevel.None }).Accepted)
            {
                accepted++;
            }
        }

        Assert.InRange(accepted, total / 20, total - (total / 20));
    }
}
