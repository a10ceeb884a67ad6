using System.Buffers.Binary;
using System.Text;
using VethXdp.Vm.Btf;

namespace VethXdp.Kernel;

/// <summary>BTF for the running kernel: an object's <c>.BTF</c> encoded again from our model, with the fix-ups libbpf
/// makes before BPF_BTF_LOAD, and the kernel's own BTF (/sys/kernel/btf/vmlinux) for kfunc ids.</summary>
/// <remarks>
/// Fix-ups (libbpf's bpf_object__collect_externs), for what the kernel refuses in an object's BTF as clang emits it:
/// in <c>.ksyms</c>, every extern function becomes a global one whose unnamed parameters are named
/// <c>dummy_ksym</c> and whose section entry points at a 4-byte <c>dummy_ksym</c> variable, and every extern variable
/// becomes an allocated <c>int</c>; entries are laid out 4 bytes apart. Elsewhere, extern variables become
/// allocated ones and extern functions global ones. DATASEC sizes and offsets are those our loader computed.
/// </remarks>
public static class KernelBtf
{
    private const int HeaderLength = 24;
    private const string DummyKsym = "dummy_ksym";
    private const string VmlinuxPath = "/sys/kernel/btf/vmlinux";

    private static readonly Lazy<BtfSpec?> s_vmlinux = new(ReadVmlinux);

    /// <summary>The running kernel's BTF, or null where /sys/kernel/btf/vmlinux cannot be read.</summary>
    public static BtfSpec? Vmlinux => s_vmlinux.Value;

    /// <summary>The BTF id of the kernel function <paramref name="name"/> in vmlinux BTF (what a kfunc call's imm
    /// holds, with off 0), or null.</summary>
    /// <param name="name">The function's name.</param>
    public static uint? VmlinuxFuncId(string name) => Vmlinux?.FindByName(name, BtfKind.Func)?.Id;

    /// <summary>Encodes <paramref name="spec"/> as raw BTF for BPF_BTF_LOAD, with libbpf's fix-ups.</summary>
    /// <param name="spec">An object's BTF.</param>
    public static byte[] Encode(BtfSpec spec) => Encode(spec, [], out _);

    /// <summary>Encodes <paramref name="spec"/> as raw BTF for BPF_BTF_LOAD, with libbpf's fix-ups, adding
    /// <paramref name="extraStrings"/> (line_info's file names and source lines) to its string table.</summary>
    /// <param name="spec">An object's BTF.</param>
    /// <param name="extraStrings">Strings that line_info records will point at.</param>
    /// <param name="offsets">Every string's offset in the encoded string table.</param>
    public static byte[] Encode(BtfSpec spec, IEnumerable<string> extraStrings, out IReadOnlyDictionary<string, uint> offsets)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(extraStrings);
        var fix = Plan(spec);
        var strings = new StringTable();
        var types = new List<byte>();
        for (uint id = 1; id < (uint)spec.Count; id++)
        {
            EncodeType(spec[id], fix, strings, types);
        }

        if (fix.NeedDummy)
        {
            Append(types, strings.Add("int"), Info(BtfKind.Int, 0, false), 4);
            Append(types, (1u << 24) | 32);                                   // signed, 32 bits
            Append(types, strings.Add(DummyKsym), Info(BtfKind.Var, 0, false), fix.IntId);
            Append(types, (uint)BtfVarLinkage.GlobalAllocated);
        }

        foreach (string extra in extraStrings)
        {
            strings.Add(extra);
        }

        offsets = strings.Offsets;
        byte[] str = strings.ToArray();
        var blob = new byte[HeaderLength + types.Count + str.Length];
        var h = blob.AsSpan();
        BinaryPrimitives.WriteUInt16LittleEndian(h, BtfSpec.Magic);
        h[2] = 1;                                                              // version
        h[3] = 0;                                                              // flags
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], HeaderLength);
        BinaryPrimitives.WriteUInt32LittleEndian(h[8..], 0);                   // type_off
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], (uint)types.Count);  // type_len
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], (uint)types.Count);  // str_off
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], (uint)str.Length);   // str_len
        types.CopyTo(blob, HeaderLength);
        str.CopyTo(blob, HeaderLength + types.Count);
        return blob;
    }

    private static Fixups Plan(BtfSpec spec)
    {
        var fix = new Fixups { IntId = (uint)spec.Count, DummyVarId = (uint)spec.Count + 1 };
        foreach (var t in spec.Types)
        {
            if (t is BtfDatasec { Name: ".ksyms" } ksyms)
            {
                var vars = new BtfVarSecinfo[ksyms.Vars.Count];
                for (int i = 0; i < vars.Length; i++)
                {
                    var target = spec[ksyms.Vars[i].TypeId];
                    if (target is BtfFunc)
                    {
                        fix.NeedDummy = true;
                        vars[i] = new BtfVarSecinfo(fix.DummyVarId, (uint)i * 4, 4);
                    }
                    else
                    {
                        fix.NeedDummy = true;
                        fix.VarToInt.Add(target.Id);
                        vars[i] = new BtfVarSecinfo(target.Id, (uint)i * 4, 4);
                    }
                }

                fix.Datasecs[ksyms.Id] = (vars, (uint)vars.Length * 4);
            }
        }

        return fix;
    }

    private static void EncodeType(BtfType t, Fixups fix, StringTable s, List<byte> o)
    {
        uint name = s.Add(t.Name);
        switch (t)
        {
            case BtfInt i:
                Append(o, name, Info(BtfKind.Int, 0, false), i.Size);
                Append(o, ((uint)i.Encoding << 24) | ((uint)i.BitOffset << 16) | i.Bits);
                break;
            case BtfPtr p:
                Append(o, name, Info(BtfKind.Ptr, 0, false), p.TypeId);
                break;
            case BtfTypedef td:
                Append(o, name, Info(BtfKind.Typedef, 0, false), td.TypeId);
                break;
            case BtfQualifier q:
                Append(o, name, Info(q.Kind, 0, false), q.TypeId);
                break;
            case BtfArray a:
                Append(o, name, Info(BtfKind.Array, 0, false), 0);
                Append(o, a.ElementTypeId, a.IndexTypeId, a.Count);
                break;
            case BtfComposite c:
            {
                bool bitfields = c.Members.Any(m => m.BitfieldSize != 0);
                Append(o, name, Info(c.Kind, c.Members.Count, bitfields), c.Size);
                foreach (var m in c.Members)
                {
                    Append(o, s.Add(m.Name), m.TypeId, bitfields ? (m.BitfieldSize << 24) | m.BitOffset : m.BitOffset);
                }

                break;
            }

            case BtfEnum e:
                Append(o, name, Info(e.Kind, e.Values.Count, e.IsSigned), e.Size);
                foreach (var v in e.Values)
                {
                    if (e.Kind == BtfKind.Enum64)
                    {
                        Append(o, s.Add(v.Name), (uint)(ulong)v.Value, (uint)((ulong)v.Value >> 32));
                    }
                    else
                    {
                        Append(o, s.Add(v.Name), (uint)(int)v.Value);
                    }
                }

                break;
            case BtfFwd f:
                Append(o, name, Info(BtfKind.Fwd, 0, f.IsUnion), 0);
                break;
            case BtfFunc fn:
            {
                var linkage = fn.Linkage == BtfFuncLinkage.Extern ? BtfFuncLinkage.Global : fn.Linkage;
                Append(o, name, Info(BtfKind.Func, (int)linkage, false), fn.TypeId);
                break;
            }

            case BtfFuncProto fp:
                Append(o, name, Info(BtfKind.FuncProto, fp.Parameters.Count, false), fp.ReturnTypeId);
                foreach (var prm in fp.Parameters)
                {
                    // The kernel wants named parameters in a global function's prototype, and extern functions
                    // become global ones; naming every unnamed parameter (but the vararg marker) is harmless.
                    bool named = prm.Name.Length > 0 || prm.TypeId == 0;
                    Append(o, named ? s.Add(prm.Name) : s.Add(DummyKsym), prm.TypeId);
                }

                break;
            case BtfVar v:
            {
                uint type = fix.VarToInt.Contains(v.Id) ? fix.IntId : v.TypeId;
                Append(o, name, Info(BtfKind.Var, 0, false), type);
                Append(o, v.Linkage == BtfVarLinkage.GlobalExtern ? (uint)BtfVarLinkage.GlobalAllocated : (uint)v.Linkage);
                break;
            }

            case BtfDatasec d:
            {
                var (vars, size) = fix.Datasecs.TryGetValue(d.Id, out var f) ? f : (d.Vars.ToArray(), d.Size);
                Append(o, name, Info(BtfKind.Datasec, vars.Length, false), size);
                foreach (var v in vars)
                {
                    Append(o, v.TypeId, v.Offset, v.Size);
                }

                break;
            }

            case BtfFloat fl:
                Append(o, name, Info(BtfKind.Float, 0, false), fl.Size);
                break;
            case BtfDeclTag dt:
                Append(o, name, Info(BtfKind.DeclTag, 0, false), dt.TypeId);
                Append(o, (uint)dt.ComponentIndex);
                break;
            default:
                throw new NotSupportedException($"BTF type {t} cannot be encoded");
        }
    }

    private static uint Info(BtfKind kind, int vlen, bool kindFlag) =>
        ((kindFlag ? 1u : 0u) << 31) | ((uint)kind << 24) | ((uint)vlen & 0xffff);

    private static void Append(List<byte> o, params ReadOnlySpan<uint> words)
    {
        Span<byte> b = stackalloc byte[4];
        foreach (uint w in words)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b, w);
            o.AddRange(b);
        }
    }

    private static BtfSpec? ReadVmlinux()
    {
        try
        {
            return File.Exists(VmlinuxPath) ? BtfSpec.Parse(File.ReadAllBytes(VmlinuxPath)) : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
        catch (BtfFormatException)
        {
            return null;
        }
    }

    private sealed class Fixups
    {
        public uint IntId { get; init; }

        public uint DummyVarId { get; init; }

        public bool NeedDummy { get; set; }

        public HashSet<uint> VarToInt { get; } = [];

        public Dictionary<uint, (BtfVarSecinfo[] Vars, uint Size)> Datasecs { get; } = [];
    }

    private sealed class StringTable
    {
        private readonly Dictionary<string, uint> _offsets = new(StringComparer.Ordinal) { [string.Empty] = 0 };
        private readonly List<byte> _bytes = [0];

        public uint Add(string s)
        {
            if (_offsets.TryGetValue(s, out uint off))
            {
                return off;
            }

            off = (uint)_bytes.Count;
            _bytes.AddRange(Encoding.UTF8.GetBytes(s));
            _bytes.Add(0);
            _offsets.Add(s, off);
            return off;
        }

        public IReadOnlyDictionary<string, uint> Offsets => _offsets;

        public byte[] ToArray() => [.. _bytes];
    }
}
