using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Programs;
using VethXdp.Vm.Runtime;

namespace VethXdp.Devices.Scenarios;

/// <summary>One program a scenario attaches, as the <see cref="EngineSelector"/> sees it: enough to verify it as
/// Linux would before attaching (the linked program, the object's maps and load options, where it is attached) and the
/// engine the scenario or the command asked for.</summary>
/// <param name="Scenario">The scenario's name.</param>
/// <param name="ObjectName">The scenario's name for the object.</param>
/// <param name="Object">The loaded object (its maps, its load options such as the device-bound flag).</param>
/// <param name="Program">The linked program (what the verifier checks).</param>
/// <param name="Prepared">The program as an engine runs it (prepared from <paramref name="Program"/>).</param>
/// <param name="Kind">Native, generic or devmap egress.</param>
/// <param name="Device">The device it is attached to (for a devmap egress program: the devmap's name).</param>
/// <param name="Engine">The engine named by --engine or the scenario, or null for the default.</param>
public sealed record ProgramAttachRequest(
    string Scenario,
    string ObjectName,
    LoadedObject Object,
    ProgramSpec Program,
    ExecutableProgram Prepared,
    ProgramAttachKind Kind,
    string Device,
    string? Engine);
