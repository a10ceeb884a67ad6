using VethXdp.Vm.Runtime;

namespace VethXdp.Devices.Scenarios;

/// <summary>Chooses the engine one attached program runs on (the command verifies it and picks the unchecked JIT for
/// an accepted program; the devices themselves know no verifier). It may throw to refuse the program as Linux would
/// refuse to load it.</summary>
/// <param name="request">The program and where it is attached.</param>
/// <returns>The factory that makes the program's per-CPU engines.</returns>
public delegate IBpfEngineFactory EngineSelector(ProgramAttachRequest request);
