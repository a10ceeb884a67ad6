namespace VethXdp.Vm.Conformance;

/// <summary>How a conformance program receives its memory.</summary>
public enum ConformanceMode
{
    /// <summary>r1 = the memory's address, r2 = its length (uBPF style).</summary>
    Raw,
    /// <summary>As <see cref="Raw"/>; the program came from an ELF object (the same at the VM level).</summary>
    Elf,
    /// <summary>As bpf_conformance runs Linux with <c>--xdp_prolog true</c>: an XDP context over the memory and a prolog that turns it into r1/r2.</summary>
    XdpProlog,
}
