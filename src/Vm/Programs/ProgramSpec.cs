using VethXdp.Vm.Btf;
using VethXdp.Vm.Isa;

namespace VethXdp.Vm.Programs;

/// <summary>A program as the object file defines it, linked and ready to verify or run.</summary>
/// <remarks>
/// <see cref="Slots"/> is the program's function followed by every subprogram it calls (from its own section
/// and from <c>.text</c>), with BPF-to-BPF call offsets resolved, as libbpf links them. Map references are
/// 64-bit loads with src <see cref="PseudoSrc.MapIdx"/> (imm = index into <c>BpfObject.Maps</c>) or
/// <see cref="PseudoSrc.MapIdxValue"/> (imm = index, second imm = offset into the value).
/// </remarks>
public sealed record ProgramSpec
{
    /// <summary>The function symbol's name (what --prog selects).</summary>
    public required string Name { get; init; }

    /// <summary>The ELF section, without a leading '?'.</summary>
    public required string SectionName { get; init; }

    /// <summary>The program type libbpf derives from the section name.</summary>
    public required ProgramType Type { get; init; }

    /// <summary>The expected attach type (kernel enum bpf_attach_type; BPF_XDP_DEVMAP, BPF_XDP_CPUMAP, BPF_XDP ...).</summary>
    public uint ExpectedAttachType { get; init; }

    /// <summary>True for xdp.frags programs (BPF_F_XDP_HAS_FRAGS).</summary>
    public bool Frags { get; init; }

    /// <summary>False when the section name starts with '?': libbpf does not load it by default.</summary>
    public bool AutoLoad { get; init; } = true;

    /// <summary>The linked instructions.</summary>
    public required IReadOnlyList<Instruction> Slots { get; init; }

    /// <summary>The object's license.</summary>
    public string License { get; init; } = string.Empty;

    /// <summary>Functions in <see cref="Slots"/>: start slot and name (BTF func_info, else symbols).</summary>
    public IReadOnlyList<FunctionInfo> Functions { get; init; } = [];

    /// <summary>Source lines by slot (BTF line_info), sorted by slot.</summary>
    public IReadOnlyList<LineInfo> Lines { get; init; } = [];

    /// <summary>The kfunc calls in <see cref="Slots"/> (call src 2, imm = <see cref="KfuncId"/>), by slot.</summary>
    public IReadOnlyList<KfuncCall> Kfuncs { get; init; } = [];

    /// <summary>The source line of a slot: the last line_info at or before it, or null.</summary>
    /// <param name="slot">A slot of <see cref="Slots"/>.</param>
    public LineInfo? LineAt(int slot)
    {
        LineInfo? best = null;
        foreach (var l in Lines)
        {
            if (l.Slot > slot)
            {
                break;
            }

            best = l;
        }

        return best;
    }

    /// <summary>The program as a validated <see cref="BpfProgram"/>.</summary>
    public BpfProgram ToProgram() => BpfProgram.Create(Slots.ToArray(), Name);
}

/// <summary>A function inside a linked program.</summary>
/// <param name="StartSlot">Its first slot.</param>
/// <param name="Name">Its name.</param>
/// <param name="IsGlobal">True for global (non-static) functions: from the BTF FUNC's linkage when the object has
/// func_info, else from the symbol's binding. The verifier checks a function separately only when it is global in
/// BTF (<see cref="IsBtfGlobal"/>), as Linux does.</param>
public sealed record FunctionInfo(int StartSlot, string Name, bool IsGlobal)
{
    /// <summary>The object's BTF when this record came from BTF func_info (<c>bpf_func_info</c>), else null.</summary>
    public BtfSpec? Btf { get; init; }

    /// <summary>The BTF FUNC type id of the function (<c>bpf_func_info.type_id</c>), 0 without BTF.</summary>
    public uint BtfFuncId { get; init; }

    /// <summary>True when BTF describes the function (<see cref="Btf"/> and <see cref="BtfFuncId"/> are set).</summary>
    public bool HasBtf => Btf is not null && BtfFuncId != 0;

    /// <summary>The BTF FUNC with BTF_FUNC_GLOBAL linkage: Linux verifies such a function on its own, with its
    /// arguments typed from the prototype (<c>subprog_is_global</c>).</summary>
    public bool IsBtfGlobal => HasBtf && Btf!.TryGet(BtfFuncId) is BtfFunc { Linkage: BtfFuncLinkage.Global };

    /// <summary>Equal when the start slot, name and linkage are: the BTF a record carries is not compared.</summary>
    /// <param name="other">The other record.</param>
    public bool Equals(FunctionInfo? other) =>
        other is not null && StartSlot == other.StartSlot && IsGlobal == other.IsGlobal && string.Equals(Name, other.Name, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(StartSlot, Name, IsGlobal);
}

/// <summary>The source line of an instruction (BTF line_info).</summary>
/// <param name="Slot">The first slot the line covers.</param>
/// <param name="File">The source file name.</param>
/// <param name="Line">The 1-based line number.</param>
/// <param name="Column">The 1-based column.</param>
/// <param name="Text">The source text of the line.</param>
public sealed record LineInfo(int Slot, string File, int Line, int Column, string Text);
