using System.Buffers.Binary;
using VethXdp.Vm.Btf;
using VethXdp.Vm.Maps;

namespace VethXdp.Vm.Elf;

public static partial class ElfObjectReader
{
    /// <summary>BPF_F_RDONLY_PROG.</summary>
    private const uint MapFlagRdonlyProg = 1u << 7;

    /// <summary>BPF_F_MMAPABLE.</summary>
    private const uint MapFlagMmapable = 1u << 10;

    /// <summary>The largest global data section the VM makes a map of (the kernel's limit is higher).</summary>
    private const ulong MaxGlobalDataSize = 64UL << 20;

    private const string BtfMapsSection = ".maps";
    private const string LegacyMapsSection = "maps";

    // kernel: libbpf.c bpf_object__init_maps(): legacy maps, BTF maps, global data, .kconfig.
    private static void InitMaps(LoadContext ctx)
    {
        InitLegacyMaps(ctx);
        InitBtfMaps(ctx);
        InitGlobalDataMaps(ctx);
        InitKconfigMap(ctx);
    }

    private static void AddMap(LoadContext ctx, MapSpec spec, MapOrigin origin)
    {
        ctx.Maps.Add(spec);
        ctx.MapOrigins.Add(origin);
    }

    private static MapType CheckMapType(LoadContext ctx, string section, string name, uint type)
    {
        if (type > (uint)MapType.Arena)
        {
            throw ctx.Error(section, $"map '{name}': unknown map type {type}");
        }

        return (MapType)type;
    }

    // kernel: libbpf 0.x bpf_object__init_user_maps(). Every symbol in "maps" is a struct bpf_map_def; the
    // definition size is the section size over the number of symbols; fields past map_flags (iproute2's id,
    // pinning, inner_id, inner_idx) are ignored, as libbpf did without strict mode.
    private static void InitLegacyMaps(LoadContext ctx)
    {
        if (ctx.MapsIndex < 0)
        {
            return;
        }

        var raw = ctx.Raw[ctx.MapsIndex];
        var symbols = ctx.Symbols.Where(s => s.SectionIndex == ctx.MapsIndex && s.Type != ElfSymbolType.Section).ToList();
        if (raw.Size == 0 && symbols.Count == 0)
        {
            return;
        }

        if (raw.Size == 0 || symbols.Count == 0 || raw.Size % (ulong)symbols.Count != 0)
        {
            throw ctx.Error(LegacyMapsSection, $"unable to determine legacy map definition size: {raw.Size} bytes for {symbols.Count} map symbols");
        }

        ulong defSize = raw.Size / (ulong)symbols.Count;
        var data = ctx.Contents(ctx.MapsIndex);
        Span<uint> f = stackalloc uint[5];
        foreach (var sym in symbols)
        {
            if (sym.Value > raw.Size || defSize > raw.Size - sym.Value)
            {
                throw ctx.Error(LegacyMapsSection, (long)Math.Min(sym.Value, long.MaxValue),
                    $"map '{sym.Name}': a {defSize}-byte definition at offset {sym.Value} runs past the end of the section ({raw.Size} bytes)");
            }

            f.Clear();
            for (int i = 0; i < 5 && (ulong)((i + 1) * 4) <= defSize; i++)
            {
                f[i] = data.IsEmpty ? 0 : BinaryPrimitives.ReadUInt32LittleEndian(data[((int)sym.Value + (i * 4))..]);
            }

            var spec = new MapSpec
            {
                Name = sym.Name,
                Type = CheckMapType(ctx, LegacyMapsSection, sym.Name, f[0]),
                KeySize = f[1],
                ValueSize = f[2],
                MaxEntries = f[3],
                Flags = f[4],
                SectionName = LegacyMapsSection,
            };
            AddMap(ctx, spec, new MapOrigin(MapOriginKind.Legacy, ctx.MapsIndex, sym.Value, defSize, 0));
        }
    }

    /// <summary>A map definition read from BTF (libbpf's struct btf_map_def).</summary>
    private sealed class BtfMapDef
    {
        public uint Type;
        public uint KeySize;
        public uint ValueSize;
        public uint MaxEntries;
        public uint Flags;
        public uint NumaNode;
        public uint Pinning;
        public ulong MapExtra;
        public uint KeyTypeId;
        public uint ValueTypeId;
        public bool HasValues;
        public BtfMapDef? Inner;
    }

    // kernel: libbpf.c bpf_object__init_user_btf_maps(): one map per VAR of DATASEC ".maps", in offset order.
    private static void InitBtfMaps(LoadContext ctx)
    {
        if (ctx.BtfMapsIndex < 0)
        {
            return;
        }

        var btf = ctx.Btf ?? throw ctx.Error(BtfMapsSection, "BTF-defined maps need the object's BTF, and the .BTF section is missing");
        if (btf.FindByName(BtfMapsSection, BtfKind.Datasec) is not BtfDatasec sec)
        {
            throw ctx.Error(BtfMapsSection, "DATASEC '.maps' not found in the object's BTF");
        }

        ulong sectionSize = ctx.Raw[ctx.BtfMapsIndex].Size;
        for (int i = 0; i < sec.Vars.Count; i++)
        {
            var vi = sec.Vars[i];
            if (btf.TryGet(vi.TypeId) is not BtfVar v)
            {
                throw ctx.Error(BtfMapsSection, $"map #{i}: unexpected var kind {BtfType.KindName(btf.TryGet(vi.TypeId)?.Kind ?? BtfKind.Void)}");
            }

            string name = v.Name;
            if (name.Length == 0)
            {
                throw ctx.Error(BtfMapsSection, $"map #{i}: empty name");
            }

            if ((ulong)vi.Offset + vi.Size > sectionSize)
            {
                throw ctx.Error(BtfMapsSection, $"map '{name}' BTF data is corrupted: {vi.Size} bytes at {vi.Offset} in a {sectionSize}-byte section");
            }

            if (v.Linkage != BtfVarLinkage.GlobalAllocated)
            {
                throw ctx.Error(BtfMapsSection, $"map '{name}': unsupported map linkage {(v.Linkage == BtfVarLinkage.Static ? "static" : "extern")}");
            }

            if (btf.SkipModsAndTypedefs(v.TypeId, out _) is not BtfComposite { IsUnion: false } def)
            {
                throw ctx.Error(BtfMapsSection, $"map '{name}': unexpected def kind {BtfType.KindName(btf.TryGet(v.TypeId)?.Kind ?? BtfKind.Void)}");
            }

            if (def.Size > vi.Size)
            {
                throw ctx.Error(BtfMapsSection, $"map '{name}': invalid def size");
            }

            var d = ParseBtfMapDef(ctx, btf, name, def, isInner: false);
            var spec = ToMapSpec(ctx, name, d);
            if (d.Inner is not null)
            {
                spec = spec with { InnerMap = ToMapSpec(ctx, name + ".inner", d.Inner) };
            }

            AddMap(ctx, spec, new MapOrigin(MapOriginKind.Btf, ctx.BtfMapsIndex, vi.Offset, vi.Size, vi.TypeId));
        }
    }

    private static MapSpec ToMapSpec(LoadContext ctx, string name, BtfMapDef d) => new()
    {
        Name = name,
        Type = CheckMapType(ctx, BtfMapsSection, name, d.Type),
        KeySize = d.KeySize,
        ValueSize = d.ValueSize,
        MaxEntries = d.MaxEntries,
        Flags = d.Flags,
        NumaNode = d.NumaNode,
        Pinning = d.Pinning,
        MapExtra = d.MapExtra,
        SectionName = BtfMapsSection,
        BtfKeyTypeId = d.KeyTypeId,
        BtfValueTypeId = d.ValueTypeId,
        SpinLockOffset = FindSpinLock(ctx.Btf, d.ValueTypeId),
        TimerOffset = FindSpecialField(ctx.Btf, d.ValueTypeId, "bpf_timer"),
        KptrFields = FindKptrFields(ctx.Btf, d.ValueTypeId),
    };

    // kernel: btf_find_kptr(): top-level members `T __kptr *` / `T __percpu_kptr *`, i.e. PTR -> TYPE_TAG("kptr" or
    // "percpu_kptr") -> T, where T (past modifiers and typedefs) is a struct.
    private static KptrField[] FindKptrFields(BtfSpec? btf, uint valueTypeId)
    {
        if (btf is null || valueTypeId == 0 || btf.SkipModsAndTypedefs(valueTypeId, out _) is not BtfComposite value)
        {
            return [];
        }

        List<KptrField>? fields = null;
        foreach (var m in value.Members)
        {
            if (m.BitfieldSize != 0 || m.BitOffset % 64 != 0 || btf.SkipModsAndTypedefs(m.TypeId, out _) is not BtfPtr ptr)
            {
                continue;
            }

            if (btf.TryGet(ptr.TypeId) is not BtfQualifier { Kind: BtfKind.TypeTag } tag || tag.Name is not ("kptr" or "percpu_kptr"))
            {
                continue;
            }

            if (btf.SkipModsAndTypedefs(tag.TypeId, out uint structId) is not BtfComposite { IsUnion: false } target)
            {
                continue;
            }

            fields ??= [];
            fields.Add(new KptrField((int)(m.BitOffset / 8), tag.Name == "percpu_kptr", structId, target.Name, target.Size));
        }

        return fields is null ? [] : [.. fields];
    }

    // kernel: btf_find_field(BPF_SPIN_LOCK): the value's member of type struct bpf_spin_lock, at top level.
    private static int FindSpinLock(BtfSpec? btf, uint valueTypeId) => FindSpecialField(btf, valueTypeId, "bpf_spin_lock");

    // kernel: btf_find_field(): the value's member of type struct `name` (bpf_spin_lock, bpf_timer), at top level.
    private static int FindSpecialField(BtfSpec? btf, uint valueTypeId, string name)
    {
        if (btf is null || valueTypeId == 0 || btf.SkipModsAndTypedefs(valueTypeId, out _) is not BtfComposite value)
        {
            return -1;
        }

        foreach (var m in value.Members)
        {
            if (btf.SkipModsAndTypedefs(m.TypeId, out _) is BtfComposite c && c.Name == name)
            {
                return (int)(m.BitOffset / 8);
            }
        }

        return -1;
    }

    private static bool IsMapInMap(uint type) => type is (uint)MapType.ArrayOfMaps or (uint)MapType.HashOfMaps;

    // Program arrays, maps of maps (as libbpf), and devmaps (an extension: program slots for xdp/devmap programs).
    private static bool TakesProgramSlots(uint type) =>
        type is (uint)MapType.ProgArray or (uint)MapType.Devmap or (uint)MapType.DevmapHash;

    // kernel: libbpf.c parse_btf_map_def(), strict as libbpf 1.x: unknown fields are refused.
    private static BtfMapDef ParseBtfMapDef(LoadContext ctx, BtfSpec btf, string name, BtfComposite def, bool isInner)
    {
        var d = new BtfMapDef();
        bool hasType = false;
        for (int i = 0; i < def.Members.Count; i++)
        {
            var m = def.Members[i];
            switch (m.Name)
            {
                case "type":
                    d.Type = MapFieldInt(ctx, btf, name, m);
                    hasType = true;
                    break;
                case "max_entries":
                    d.MaxEntries = MapFieldInt(ctx, btf, name, m);
                    break;
                case "map_flags":
                    d.Flags = MapFieldInt(ctx, btf, name, m);
                    break;
                case "numa_node":
                    d.NumaNode = MapFieldInt(ctx, btf, name, m);
                    break;
                case "key_size":
                    d.KeySize = SetSize(ctx, name, "key", d.KeySize, MapFieldInt(ctx, btf, name, m));
                    break;
                case "value_size":
                    d.ValueSize = SetSize(ctx, name, "value", d.ValueSize, MapFieldInt(ctx, btf, name, m));
                    break;
                case "key":
                case "value":
                {
                    bool key = m.Name == "key";
                    var t = btf.TryGet(m.TypeId);
                    if (t is not BtfPtr p)
                    {
                        throw ctx.Error(BtfMapsSection, $"map '{name}': {m.Name} spec is not PTR: {BtfType.KindName(t?.Kind ?? BtfKind.Void)}");
                    }

                    long sz = btf.ResolveSize(p.TypeId);
                    if (sz < 0 || sz > uint.MaxValue)
                    {
                        throw ctx.Error(BtfMapsSection, $"map '{name}': can't determine {m.Name} size for type [{p.TypeId}]");
                    }

                    if (key)
                    {
                        d.KeySize = SetSize(ctx, name, "key", d.KeySize, (uint)sz);
                        d.KeyTypeId = p.TypeId;
                    }
                    else
                    {
                        d.ValueSize = SetSize(ctx, name, "value", d.ValueSize, (uint)sz);
                        d.ValueTypeId = p.TypeId;
                    }

                    break;
                }

                case "values":
                    ParseValues(ctx, btf, name, def, i, d, isInner);
                    break;
                case "pinning":
                {
                    if (isInner)
                    {
                        throw ctx.Error(BtfMapsSection, $"map '{name}': inner def can't be pinned");
                    }

                    uint pin = MapFieldInt(ctx, btf, name, m);
                    if (pin > 1)
                    {
                        throw ctx.Error(BtfMapsSection, $"map '{name}': invalid pinning value {pin}");
                    }

                    d.Pinning = pin;
                    break;
                }

                case "map_extra":
                    d.MapExtra = MapFieldLong(ctx, btf, name, m);
                    break;
                default:
                    throw ctx.Error(BtfMapsSection, $"map '{name}': unknown field '{m.Name}'");
            }
        }

        if (!hasType || d.Type == (uint)MapType.Unspec)
        {
            throw ctx.Error(BtfMapsSection, $"map '{name}': map type isn't specified");
        }

        return d;
    }

    private static uint SetSize(LoadContext ctx, string name, string what, uint current, uint size)
    {
        if (current != 0 && current != size)
        {
            throw ctx.Error(BtfMapsSection, $"map '{name}': conflicting {what} size {current} != {size}");
        }

        return size;
    }

    private static void ParseValues(LoadContext ctx, BtfSpec btf, string name, BtfComposite def, int index, BtfMapDef d, bool isInner)
    {
        bool mapInMap = IsMapInMap(d.Type);
        string desc = mapInMap ? "map-in-map inner" : "prog-array value";
        if (isInner)
        {
            throw ctx.Error(BtfMapsSection, $"map '{name}': multi-level inner maps not supported");
        }

        if (index != def.Members.Count - 1)
        {
            throw ctx.Error(BtfMapsSection, $"map '{name}': 'values' member should be last");
        }

        if (!mapInMap && !TakesProgramSlots(d.Type))
        {
            throw ctx.Error(BtfMapsSection, $"map '{name}': should be map-in-map, prog-array or devmap");
        }

        if (d.Type != (uint)MapType.Devmap && d.Type != (uint)MapType.DevmapHash)
        {
            d.ValueSize = SetSize(ctx, name, "value", d.ValueSize, 4);
        }
        else if (d.ValueSize == 0)
        {
            d.ValueSize = 4;
        }

        d.HasValues = true;
        if (btf.TryGet(def.Members[index].TypeId) is not BtfArray { Count: 0 } arr)
        {
            throw ctx.Error(BtfMapsSection, $"map '{name}': {desc} spec is not a zero-sized array");
        }

        if (btf.SkipModsAndTypedefs(arr.ElementTypeId, out _) is not BtfPtr ptr)
        {
            throw ctx.Error(BtfMapsSection, $"map '{name}': {desc} def is of unexpected kind {BtfType.KindName(btf.TryGet(arr.ElementTypeId)?.Kind ?? BtfKind.Void)}");
        }

        var target = btf.SkipModsAndTypedefs(ptr.TypeId, out _);
        if (!mapInMap)
        {
            if (target is not BtfFuncProto)
            {
                throw ctx.Error(BtfMapsSection, $"map '{name}': prog-array value def is of unexpected kind {BtfType.KindName(target?.Kind ?? BtfKind.Void)}");
            }

            return;
        }

        if (target is not BtfComposite { IsUnion: false } inner)
        {
            throw ctx.Error(BtfMapsSection, $"map '{name}': map-in-map inner def is of unexpected kind {BtfType.KindName(target?.Kind ?? BtfKind.Void)}");
        }

        d.Inner = ParseBtfMapDef(ctx, btf, name + ".inner", inner, isInner: true);
    }

    // kernel: libbpf.c get_map_field_int(): __uint(name, N) is "int (*name)[N]", a pointer to an N-element array.
    private static uint MapFieldInt(LoadContext ctx, BtfSpec btf, string map, BtfMember m)
    {
        var t = btf.SkipModsAndTypedefs(m.TypeId, out _);
        if (t is not BtfPtr p)
        {
            throw ctx.Error(BtfMapsSection, $"map '{map}': attr '{m.Name}': expected PTR, got {BtfType.KindName(t?.Kind ?? BtfKind.Void)}");
        }

        var a = btf.TryGet(p.TypeId);
        if (a is not BtfArray arr)
        {
            throw ctx.Error(BtfMapsSection, $"map '{map}': attr '{m.Name}': expected ARRAY, got {BtfType.KindName(a?.Kind ?? BtfKind.Void)}");
        }

        return arr.Count;
    }

    // kernel: libbpf.c get_map_field_long(): __uint or __ulong (an enum with one enumerator).
    private static ulong MapFieldLong(LoadContext ctx, BtfSpec btf, string map, BtfMember m)
    {
        var t = btf.SkipModsAndTypedefs(m.TypeId, out _);
        if (t is BtfPtr)
        {
            return MapFieldInt(ctx, btf, map, m);
        }

        if (t is not BtfEnum e)
        {
            throw ctx.Error(BtfMapsSection, $"map '{map}': attr '{m.Name}': expected ENUM or ENUM64, got {BtfType.KindName(t?.Kind ?? BtfKind.Void)}");
        }

        if (e.Values.Count != 1)
        {
            throw ctx.Error(BtfMapsSection, $"map '{map}': attr '{m.Name}': invalid __ulong");
        }

        return e.Kind == BtfKind.Enum ? (uint)e.Values[0].Value : (ulong)e.Values[0].Value;
    }

    private static bool IsDataSection(string name, string prefix) =>
        name == prefix || (name.Length > prefix.Length && name.StartsWith(prefix, StringComparison.Ordinal) && name[prefix.Length] == '.');

    // kernel: libbpf.c bpf_object__init_global_data_maps(): each .data*, .rodata* and .bss* section becomes a
    // one-element array named like the section; .rodata is read-only for programs and frozen.
    private static void InitGlobalDataMaps(LoadContext ctx)
    {
        for (int i = 1; i < ctx.Raw.Length; i++)
        {
            var s = ctx.Raw[i];
            if (ctx.Code.ContainsKey(i) || s.Size == 0)
            {
                continue;
            }

            bool data = s.Type == ShtProgbits && IsDataSection(s.Name, ".data");
            bool rodata = s.Type == ShtProgbits && IsDataSection(s.Name, ".rodata");
            bool bss = s.Type == ShtNobits && IsDataSection(s.Name, ".bss");
            if (!data && !rodata && !bss)
            {
                continue;
            }

            if (s.Size > MaxGlobalDataSize)
            {
                throw ctx.Error(s.Name, $"a global data section of {s.Size} bytes is larger than the VM's limit of {MaxGlobalDataSize} bytes");
            }

            var initial = bss ? new byte[s.Size] : ctx.Contents(i).ToArray();
            var datasec = ctx.Btf?.FindByName(s.Name, BtfKind.Datasec) as BtfDatasec;
            uint flags = rodata ? MapFlagRdonlyProg : 0;
            if (datasec is not null && IsMmapable(ctx.Btf!, datasec))
            {
                flags |= MapFlagMmapable;
            }

            var spec = new MapSpec
            {
                Name = s.Name,
                Type = MapType.Array,
                KeySize = 4,
                ValueSize = (uint)s.Size,
                MaxEntries = 1,
                Flags = flags,
                SectionName = s.Name,
                InitialData = initial,
                Frozen = rodata,
                IsGlobalData = true,
                BtfValueTypeId = datasec?.Id ?? 0,
            };
            AddMap(ctx, spec, new MapOrigin(MapOriginKind.GlobalData, i, 0, s.Size, 0));
        }
    }

    // kernel: libbpf.c map_is_mmapable(): a global data map is mmapable when its DATASEC has a non-static variable.
    private static bool IsMmapable(BtfSpec btf, BtfDatasec sec)
    {
        foreach (var v in sec.Vars)
        {
            if (btf.TryGet(v.TypeId) is BtfVar var && var.Linkage != BtfVarLinkage.Static)
            {
                return true;
            }
        }

        return false;
    }

    // kernel: libbpf.c bpf_object__init_kconfig_map(): one array element holding every kcfg extern, laid out by
    // LayoutKconfig; the .kconfig DATASEC gets the same layout, as libbpf writes it.
    private static void InitKconfigMap(LoadContext ctx)
    {
        var kcfg = ctx.Externs.Where(e => e.IsKconfig).OrderBy(e => e.DataOffset).ToList();
        if (kcfg.Count == 0)
        {
            return;
        }

        int size = kcfg.Max(e => e.DataOffset + e.Size);
        var values = KconfigValues(ctx, kcfg, size);
        var sec = ctx.Btf!.FindByName(KconfigSection, BtfKind.Datasec) as BtfDatasec;
        if (sec is not null)
        {
            sec.Size = (uint)size;
            var vars = sec.Vars.ToArray();
            for (int i = 0; i < vars.Length; i++)
            {
                var ext = kcfg.FirstOrDefault(e => e.BtfId == vars[i].TypeId);
                if (ext is not null)
                {
                    vars[i] = vars[i] with { Offset = (uint)ext.DataOffset };
                    ((BtfVar)ctx.Btf[vars[i].TypeId]).Linkage = BtfVarLinkage.GlobalAllocated;
                }
            }

            sec.SetVars([.. vars.OrderBy(v => v.Offset)]);
        }

        ctx.KconfigMapIndex = ctx.Maps.Count;
        var spec = new MapSpec
        {
            Name = KconfigSection,
            Type = MapType.Array,
            KeySize = 4,
            ValueSize = (uint)size,
            MaxEntries = 1,
            Flags = MapFlagRdonlyProg | MapFlagMmapable,
            SectionName = KconfigSection,
            InitialData = values,
            Frozen = true,
            IsGlobalData = true,
            BtfValueTypeId = sec?.Id ?? 0,
        };
        AddMap(ctx, spec, new MapOrigin(MapOriginKind.Kconfig, 0, 0, (ulong)size, 0));
    }

    // kernel: libbpf.c bpf_object__collect_map_relos(): .rel.maps fills the __array(values, ...) slots of program
    // arrays (and devmaps) with entry-point programs and of maps of maps with other BTF-defined maps.
    private static void CollectMapInitialSlots(LoadContext ctx)
    {
        var slots = new Dictionary<int, SortedDictionary<uint, string>>();
        foreach (var rel in ctx.Relocations)
        {
            if (rel.TargetIndex != ctx.BtfMapsIndex)
            {
                continue;
            }

            for (int r = 0; r < rel.Entries.Length; r++)
            {
                var e = rel.Entries[r];
                var sym = ctx.SymbolsByIndex[e.Symbol];
                string symName = sym?.Name ?? "<null>";
                int j = ctx.MapOrigins.FindIndex(o => o.Kind == MapOriginKind.Btf && o.Offset <= e.Offset && e.Offset + 8 <= o.Offset + o.Size);
                if (j < 0 || sym is null)
                {
                    throw ctx.Error(rel.Name, r * 16, $".maps relo #{r}: cannot find map '{symName}' at rel->r_offset {e.Offset}");
                }

                var map = ctx.Maps[j];
                var origin = ctx.MapOrigins[j];
                string target;
                if (IsMapInMap((uint)map.Type))
                {
                    if (sym.SectionIndex != ctx.BtfMapsIndex)
                    {
                        throw ctx.Error(rel.Name, r * 16, $".maps relo #{r}: '{symName}' isn't a BTF-defined map");
                    }

                    if (map.Type == MapType.HashOfMaps && map.KeySize != 4)
                    {
                        throw ctx.Error(rel.Name, r * 16, $".maps relo #{r}: hash-of-maps '{map.Name}' should have key size 4.");
                    }

                    if (!ctx.Maps.Any(m => m.Name == symName))
                    {
                        throw ctx.Error(rel.Name, r * 16, $".maps relo #{r}: '{symName}' isn't a valid map reference");
                    }

                    target = symName;
                }
                else if (TakesProgramSlots((uint)map.Type))
                {
                    var prog = ctx.ProgramFunctions.FirstOrDefault(f => f.Name == symName)
                        ?? throw ctx.Error(rel.Name, r * 16, $".maps relo #{r}: '{symName}' isn't a valid program reference");
                    if (prog.SectionIndex != sym.SectionIndex || (ulong)prog.StartSlot * 8 != sym.Value)
                    {
                        throw ctx.Error(rel.Name, r * 16, $".maps relo #{r}: '{symName}' isn't an entry-point program");
                    }

                    target = symName;
                }
                else
                {
                    throw ctx.Error(rel.Name, r * 16, $".maps relo #{r}: map '{map.Name}' ({map.Type}) cannot have initial values");
                }

                var def = (BtfComposite)ctx.Btf!.SkipModsAndTypedefs(((BtfVar)ctx.Btf[origin.BtfVarId]).TypeId, out _)!;
                if (def.Members.Count == 0 || def.Members[^1].Name != "values")
                {
                    throw ctx.Error(rel.Name, r * 16, $".maps relo #{r}: map '{map.Name}' has no 'values' member");
                }

                ulong moff = def.Members[^1].BitOffset / 8;
                ulong at = e.Offset - origin.Offset;
                if (at < moff || (at - moff) % 8 != 0)
                {
                    throw ctx.Error(rel.Name, r * 16, $".maps relo #{r}: offset {e.Offset} is not a slot of map '{map.Name}'");
                }

                uint index = (uint)((at - moff) / 8);
                if (map.MaxEntries != 0 && index >= map.MaxEntries)
                {
                    throw ctx.Error(rel.Name, r * 16, $".maps relo #{r}: initial value [{index}] of map '{map.Name}' is beyond max_entries {map.MaxEntries}");
                }

                if (!slots.TryGetValue(j, out var list))
                {
                    list = [];
                    slots.Add(j, list);
                }

                list[index] = target;
            }
        }

        foreach (var (j, list) in slots)
        {
            ctx.Maps[j] = ctx.Maps[j] with { InitialSlots = [.. list.Select(kv => new MapSlotInit(kv.Key, kv.Value))] };
        }
    }
}
