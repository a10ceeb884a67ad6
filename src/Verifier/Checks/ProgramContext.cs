using VethXdp.Verifier.Context;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Checks;

/// <summary>What is being verified besides the instructions: the program type and attach variant, its context
/// model (<c>env-&gt;ops</c>), and how it is loaded.</summary>
/// <param name="Type">The program type.</param>
/// <param name="ExpectedAttachType">expected_attach_type (BPF_XDP_DEVMAP = 38, BPF_XDP_CPUMAP = 37, ...).</param>
/// <param name="Ctx">The context model, or null where the type has none modelled.</param>
/// <param name="DeviceBound">Loaded bound to a device (the XDP metadata kfuncs need it).</param>
/// <param name="Frags">xdp.frags (BPF_F_XDP_HAS_FRAGS).</param>
/// <param name="StrictAlignment">BPF_F_STRICT_ALIGNMENT.</param>
internal sealed record ProgramContext(ProgramType Type, uint ExpectedAttachType, ContextModel? Ctx, bool DeviceBound, bool Frags, bool StrictAlignment);
