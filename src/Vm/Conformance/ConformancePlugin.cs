using VethXdp.Vm.Elf;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Runtime;

namespace VethXdp.Vm.Conformance;

/// <summary>How a bpf_conformance plugin request presents its program.</summary>
public enum PluginProgramKind
{
    /// <summary>Raw bytecode: r1 = memory, r2 = its length.</summary>
    Raw,
    /// <summary>An ELF object whose code is function <c>main</c> in section <c>.text</c>: r1 = memory, r2 = its length.</summary>
    ElfText,
    /// <summary>An ELF object whose code is in section <c>xdp</c>: r1 = an XDP context over the memory.</summary>
    ElfXdp,
}

/// <summary>One request of the bpf_conformance plugin protocol, decoded and ready to run.</summary>
/// <param name="Program">The program to run.</param>
/// <param name="Kind">How the program arrived, which decides what r1 is.</param>
public sealed record PluginRequest(BpfProgram Program, PluginProgramKind Kind)
{
    /// <summary>The section the runner uses without --xdp_prolog.</summary>
    public const string TextSection = ".text";

    /// <summary>The section the runner uses with --xdp_prolog true.</summary>
    public const string XdpSection = "xdp";

    /// <summary>The function the runner names its program.</summary>
    public const string MainFunction = "main";

    /// <summary>Decodes the program the runner sent on standard input (already turned from hex into bytes).</summary>
    /// <exception cref="BpfFormatException">Bad bytecode.</exception>
    /// <exception cref="ElfLoadException">A bad ELF object, or one without the expected section.</exception>
    public static PluginRequest Decode(byte[] program, bool elf)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (!elf)
        {
            return new PluginRequest(BpfProgram.Decode(program, MainFunction), PluginProgramKind.Raw);
        }

        var obj = ElfObjectReader.Load(program, "<stdin>");
        var section = obj.Sections.FirstOrDefault(s => s.Name == XdpSection)
            ?? obj.Sections.FirstOrDefault(s => s.Name == TextSection)
            ?? throw new ElfLoadException(obj.FileName, null, 0, $"no \"{XdpSection}\" or \"{TextSection}\" section with code");
        var kind = section.Name == XdpSection ? PluginProgramKind.ElfXdp : PluginProgramKind.ElfText;

        // The program is the named function and whatever follows it in its section: local calls
        // inside that one section carry no relocation, so the callees must come along.
        var fn = obj.FindFunction(section.Name, MainFunction)
            ?? obj.Functions.FirstOrDefault(f => f.SectionName == section.Name);
        int start = fn?.StartSlot ?? 0;
        var slots = section.Slots.Skip(start).ToArray();
        return new PluginRequest(BpfProgram.Create(slots, fn?.Name ?? section.Name), kind);
    }

    /// <summary>Runs the request over <paramref name="memory"/> and returns r0.</summary>
    /// <exception cref="ExecutionFaultException">The run faulted.</exception>
    public ulong Run(byte[] memory, InterpreterOptions? options = null) => Run(memory, options, null);

    /// <summary>Runs the request over <paramref name="memory"/> on the engine <paramref name="engine"/> makes (the
    /// interpreter when null) and returns r0.</summary>
    /// <exception cref="ExecutionFaultException">The run faulted.</exception>
    public ulong Run(byte[] memory, InterpreterOptions? options, IBpfEngineFactory? engine)
    {
        ArgumentNullException.ThrowIfNull(memory);
        using var vm = (engine ?? InterpreterEngineFactory.Instance).Create(new ExecutableProgram(Program), HelperTable.CreateDefault(), options, null);
        return Kind == PluginProgramKind.ElfXdp ? vm.RunXdp(memory, 1, 0).R0 : vm.RunWithMemory(memory).R0;
    }
}
