using VethXdp.Vm.Btf;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;

namespace VethXdp.Vm.Elf;

public static partial class ElfObjectReader
{
    private const uint ShtProgbits = 1;
    private const uint ShtRela = 4;
    private const uint ShtRel = 9;

    /// <summary>Everything the load stages share: the raw file, what earlier stages found, working copies of code.</summary>
    private sealed class LoadContext
    {
        public LoadContext(
            string file,
            byte[] bytes,
            RawSection[] raw,
            ElfLoadOptions options,
            string license,
            Dictionary<int, ElfCodeSection> code,
            List<BpfFunction> functions,
            List<ElfSymbol> symbols,
            int symtabIndex)
        {
            File = file;
            Bytes = bytes;
            Raw = raw;
            Options = options;
            License = license;
            Code = code;
            Functions = functions;
            Symbols = symbols;
            SymtabIndex = symtabIndex;
            SymbolsByIndex = new ElfSymbol?[symbols.Count + 1];
            foreach (var s in symbols)
            {
                SymbolsByIndex[s.Index] = s;
            }

            for (int i = 1; i < raw.Length; i++)
            {
                switch (raw[i].Name)
                {
                    case ".text" when code.ContainsKey(i):
                        TextIndex = i;
                        break;
                    case "maps" when raw[i].Type is ShtProgbits or ShtNobits && !code.ContainsKey(i):
                        MapsIndex = i;
                        break;
                    case ".maps" when raw[i].Type is ShtProgbits or ShtNobits && !code.ContainsKey(i):
                        BtfMapsIndex = i;
                        break;
                }
            }
        }

        public string File { get; }

        public byte[] Bytes { get; }

        public RawSection[] Raw { get; }

        public ElfLoadOptions Options { get; }

        public string License { get; }

        /// <summary>Executable sections by section index.</summary>
        public Dictionary<int, ElfCodeSection> Code { get; }

        public List<BpfFunction> Functions { get; }

        public List<ElfSymbol> Symbols { get; }

        /// <summary>Symbols by symbol table index (entry 0 is null).</summary>
        public ElfSymbol?[] SymbolsByIndex { get; }

        public int SymtabIndex { get; }

        public int TextIndex { get; } = -1;

        public int MapsIndex { get; } = -1;

        public int BtfMapsIndex { get; } = -1;

        public BtfSpec? Btf { get; set; }

        public BtfExt? Ext { get; set; }

        /// <summary>Relocation sections, in section order.</summary>
        public List<RelSection> Relocations { get; } = [];

        public List<ExternDesc> Externs { get; } = [];

        public List<MapSpec> Maps { get; } = [];

        /// <summary>Where each map's definition is, for relocations: parallel to <see cref="Maps"/>.</summary>
        public List<MapOrigin> MapOrigins { get; } = [];

        public int KconfigMapIndex { get; set; } = -1;

        /// <summary>The programs found (entry points), in load order.</summary>
        public List<BpfFunction> ProgramFunctions { get; } = [];

        /// <summary>Working copies of each code section's slots, patched by CO-RE and data relocations.</summary>
        public Dictionary<int, Instruction[]> Work { get; } = [];

        /// <summary>Call and function-address relocations by section and slot, applied while linking.</summary>
        public Dictionary<int, Dictionary<int, CodeReloc>> CodeRelocs { get; } = [];

        /// <summary>Kfunc calls by section and slot.</summary>
        public Dictionary<int, Dictionary<int, ExternDesc>> KfuncSites { get; } = [];

        public ReadOnlySpan<byte> Contents(int index)
        {
            var s = Raw[index];
            return s.Type == ShtNobits ? default : Bytes.AsSpan((int)s.Offset, (int)s.Size);
        }

        public string SectionName(int index) =>
            index > 0 && index < Raw.Length ? Raw[index].Name : $"#{index}";

        public ElfLoadException Error(string? section, string message) => new(File, section, -1, message);

        public ElfLoadException Error(string? section, long offset, string message) => new(File, section, offset, message);

        public ElfLoadException InsnError(int sectionIndex, int slot, string message) =>
            ElfLoadException.AtInstruction(File, SectionName(sectionIndex), slot, message);

        /// <summary>The name a relocation shows for a symbol: its name, or its section's for section symbols.</summary>
        public string SymbolName(ElfSymbol sym) =>
            sym.Type == ElfSymbolType.Section && sym.Name.Length == 0 && sym.IsInSection ? SectionName(sym.SectionIndex) : sym.Name;
    }

    /// <summary>One SHT_REL section: the section it patches and its entries.</summary>
    private sealed record RelSection(string Name, int Index, int TargetIndex, RelEntry[] Entries);

    /// <summary>One Elf64_Rel: the byte offset patched, the symbol and the R_BPF_* type.</summary>
    private readonly record struct RelEntry(ulong Offset, int Symbol, uint Type);

    /// <summary>How a map was defined, so relocations against its symbol find it.</summary>
    private enum MapOriginKind
    {
        Legacy,
        Btf,
        GlobalData,
        Kconfig,
    }

    private readonly record struct MapOrigin(MapOriginKind Kind, int SectionIndex, ulong Offset, ulong Size, uint BtfVarId);

    private enum CodeRelocKind
    {
        /// <summary>R_BPF_64_32 on a BPF-to-BPF call (libbpf RELO_CALL).</summary>
        Call,
        /// <summary>R_BPF_64_64 on a lddw against a function (libbpf RELO_SUBPROG_ADDR).</summary>
        SubprogAddr,
    }

    /// <summary>A relocation resolved while linking: the target symbol's section and byte offset.</summary>
    private readonly record struct CodeReloc(CodeRelocKind Kind, int TargetSection, ulong SymbolOffset, string SymbolName);

    /// <summary>libbpf's kcfg types.</summary>
    private enum KcfgType
    {
        Unknown,
        Char,
        Bool,
        Int,
        Tristate,
        CharArray,
    }

    /// <summary>An undefined symbol the object uses: a .kconfig variable or a .ksyms kfunc (libbpf's extern_desc).</summary>
    private sealed class ExternDesc
    {
        public required string Name { get; init; }

        public required int SymbolIndex { get; init; }

        public bool IsWeak { get; init; }

        public bool IsKconfig { get; init; }

        public KfuncId Kfunc { get; init; }

        /// <summary>Why the extern cannot be used; reported at its first relocation (naming the instruction).</summary>
        public string? Error { get; init; }

        public uint BtfId { get; init; }

        public KcfgType KcfgType { get; init; }

        public int Size { get; init; }

        public int Align { get; init; }

        public bool IsSigned { get; init; }

        public int DataOffset { get; set; }

        public bool Used { get; set; }
    }

    /// <summary>What the load stages produce beyond the raw sections.</summary>
    private sealed record LoadedParts(IReadOnlyList<MapSpec> Maps, IReadOnlyList<ProgramSpec> Programs);

    // The stages, in the order libbpf and cilium/ebpf run them.
    private static LoadedParts LoadObject(LoadContext ctx)
    {
        LoadBtf(ctx);
        ReadRelocations(ctx);
        CollectExterns(ctx);
        InitMaps(ctx);
        FindPrograms(ctx);
        CollectMapInitialSlots(ctx);
        ApplyCoreRelocations(ctx);
        ApplyDataRelocations(ctx);
        var programs = LinkPrograms(ctx);
        return new LoadedParts(ctx.Maps.ToArray(), programs);
    }
}
