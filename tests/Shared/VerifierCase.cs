using System.Globalization;
using System.Text;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;

namespace VethXdp.Tests.Shared;

// Linked into every test project: the reader of corpus/verifier/**/*.case (STYLE.md C8, "Verifier cases").
// It depends only on VethXdp.Vm (the assembler and the enums) and the BCL.

/// <summary>A map a verifier case declares: <c>NAME TYPE key=K value=V max=N [flags=F]</c>, TYPE as bpftool names it.</summary>
/// <param name="Name">The name programs use in <c>map[NAME]</c>.</param>
/// <param name="Type">The map type.</param>
/// <param name="KeySize">key_size.</param>
/// <param name="ValueSize">value_size.</param>
/// <param name="MaxEntries">max_entries.</param>
/// <param name="Flags">map_flags.</param>
/// <param name="Index">Its position in <c>-- maps</c>: the index of <c>map[idx:N]</c> and of the fd_array.</param>
public sealed record VerifierCaseMap(string Name, MapType Type, uint KeySize, uint ValueSize, uint MaxEntries, uint Flags, int Index);

/// <summary>One verifier case: a small program, how to load it, and what Linux decides about it.</summary>
/// <remarks>
/// Sections (each opened by a line <c>-- name</c>; text before the first section is ignored):
/// <list type="bullet">
/// <item><c>description</c> (required): one or more lines of prose.</item>
/// <item><c>prog-type</c> (required): the kernel's name (<c>xdp</c>, <c>socket_filter</c>, <c>sched_cls</c>, ...).</item>
/// <item><c>attach</c>: the kernel's expected_attach_type name (<c>xdp_devmap</c>, <c>xdp_cpumap</c>, <c>xdp</c>).</item>
/// <item><c>flags</c>: prog_flags words (<c>frags</c> for BPF_F_XDP_HAS_FRAGS).</item>
/// <item><c>maps</c>: one map per line, <c>NAME TYPE key=K value=V max=N [flags=F]</c>.</item>
/// <item><c>asm</c> (required): the kernel's syntax, as <see cref="Assembler"/> reads it, plus two forms the
/// parser rewrites first: <c>map[NAME]</c> / <c>map[NAME][0]+OFF</c> (becoming <c>map[idx:N]</c>, N the map's
/// position), and <c>.raw OPCODE DST SRC OFF IMM</c> for one slot that no mnemonic encodes.</item>
/// <item><c>result</c> (required): <c>accept</c> or <c>reject</c>.</item>
/// <item><c>msg</c>: for a rejection, text the kernel's log contains (one or more whole lines, compared as one string).</item>
/// <item><c>errno</c>: for a rejection, the errno name of BPF_PROG_LOAD (EACCES, EINVAL, E2BIG, ...).</item>
/// <item><c>insn</c>: the index of the instruction whose log line the message follows.</item>
/// <item><c>retval</c>: for an accepted program, BPF_PROG_TEST_RUN's retval over <c>packet</c>.</item>
/// <item><c>packet</c>: hex bytes (whitespace ignored); default <see cref="DefaultPacket"/>.</item>
/// </list>
/// </remarks>
public sealed class VerifierCase
{
    /// <summary>The sections a case may have, in their usual order.</summary>
    public static readonly IReadOnlyList<string> Sections =
        ["description", "prog-type", "attach", "flags", "maps", "asm", "result", "msg", "errno", "insn", "retval", "packet"];

    /// <summary>Errno names a rejection may give.</summary>
    public static readonly IReadOnlyList<string> ErrnoNames = ["EACCES", "EINVAL", "E2BIG", "ENOTSUPP", "EPERM", "EFAULT", "ENOENT", "EBADF", "ENOSPC", "EOPNOTSUPP", "EBUSY", "ENOMEM", "EPROTO"];

    private const int RawMagic = 0x5ead0000;

    private static readonly Dictionary<string, ProgramType> s_progTypes = new(StringComparer.Ordinal)
    {
        ["socket_filter"] = ProgramType.SocketFilter,
        ["kprobe"] = ProgramType.Kprobe,
        ["sched_cls"] = ProgramType.SchedCls,
        ["sched_act"] = ProgramType.SchedAct,
        ["tracepoint"] = ProgramType.Tracepoint,
        ["xdp"] = ProgramType.Xdp,
        ["perf_event"] = ProgramType.PerfEvent,
        ["cgroup_skb"] = ProgramType.CgroupSkb,
        ["lwt_in"] = ProgramType.LwtIn,
        ["lwt_out"] = ProgramType.LwtOut,
        ["lwt_xmit"] = ProgramType.LwtXmit,
        ["sk_skb"] = ProgramType.SkSkb,
        ["flow_dissector"] = ProgramType.FlowDissector,
    };

    private static readonly Dictionary<string, AttachType> s_attachTypes = new(StringComparer.Ordinal)
    {
        ["xdp"] = AttachType.Xdp,
        ["xdp_devmap"] = AttachType.XdpDevmap,
        ["xdp_cpumap"] = AttachType.XdpCpumap,
    };

    private VerifierCase()
    {
    }

    /// <summary>The packet BPF_PROG_TEST_RUN gets when a case gives none: 64 bytes, an Ethernet header with
    /// EtherType IPv4 and zeros after it.</summary>
    public static ReadOnlyMemory<byte> DefaultPacket { get; } = MakeDefaultPacket();

    /// <summary>corpus/verifier.</summary>
    public static string Directory => System.IO.Path.Combine(TestPaths.CorpusDir, "verifier");

    /// <summary>The file's path ("" when parsed from text).</summary>
    public string Path { get; private init; } = string.Empty;

    /// <summary>The folder the case is in (cfg, alu, stack, ...), "" for none.</summary>
    public string Group { get; private init; } = string.Empty;

    /// <summary>The file name without ".case".</summary>
    public string Name { get; private init; } = string.Empty;

    /// <summary><c>group/name</c>: unique in the collection.</summary>
    public string Id => Group.Length == 0 ? Name : Group + "/" + Name;

    /// <summary>The description.</summary>
    public string Description { get; private init; } = string.Empty;

    /// <summary>The program type as written (the kernel's name).</summary>
    public string ProgTypeName { get; private init; } = string.Empty;

    /// <summary>The program type.</summary>
    public ProgramType ProgType { get; private init; }

    /// <summary>The expected_attach_type (0, BPF_CGROUP_INET_INGRESS, when none is given, as the kernel reads it).</summary>
    public AttachType Attach { get; private init; }

    /// <summary>prog_flags.</summary>
    public uint ProgFlags { get; private init; }

    /// <summary>The declared maps, in order.</summary>
    public IReadOnlyList<VerifierCaseMap> Maps { get; private init; } = [];

    /// <summary>The <c>-- asm</c> text as written.</summary>
    public string Asm { get; private init; } = string.Empty;

    /// <summary>The assembled slots (map references as <c>BPF_PSEUDO_MAP_IDX</c> loads; pass the maps as fd_array).</summary>
    public IReadOnlyList<Instruction> Slots { get; private init; } = [];

    /// <summary>True when Linux accepts the program.</summary>
    public bool Accept { get; private init; }

    /// <summary>For a rejection: the text the kernel's log contains (lines joined with '\n'); null for an acceptance.</summary>
    public string? Msg { get; private init; }

    /// <summary>For a rejection: the errno name; null for an acceptance.</summary>
    public string? Errno { get; private init; }

    /// <summary>The instruction whose log line the message follows, when given.</summary>
    public int? Insn { get; private init; }

    /// <summary>BPF_PROG_TEST_RUN's expected retval, when given.</summary>
    public uint? Retval { get; private init; }

    /// <summary>The packet for the test run (<see cref="DefaultPacket"/> when none is given).</summary>
    public ReadOnlyMemory<byte> Packet { get; private init; }

    /// <inheritdoc/>
    public override string ToString() => Id;

    /// <summary>Every <c>*.case</c> under <paramref name="directory"/> (default corpus/verifier), sorted by id.</summary>
    /// <param name="directory">The root folder; groups are its subfolders.</param>
    /// <exception cref="FormatException">A case is malformed (the message names the file).</exception>
    public static IReadOnlyList<VerifierCase> LoadAll(string? directory = null)
    {
        string root = directory ?? Directory;
        var files = System.IO.Directory.GetFiles(root, "*.case", SearchOption.AllDirectories);
        var cases = new List<VerifierCase>(files.Length);
        foreach (string f in files)
        {
            cases.Add(Load(f, root));
        }

        cases.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
        return cases;
    }

    /// <summary>The ids of every case under <paramref name="directory"/>, for a theory's member data.</summary>
    /// <param name="directory">The root folder (default corpus/verifier).</param>
    public static IEnumerable<string> Ids(string? directory = null)
    {
        string root = directory ?? Directory;
        var ids = new List<string>();
        foreach (string f in System.IO.Directory.GetFiles(root, "*.case", SearchOption.AllDirectories))
        {
            ids.Add(IdOf(f, root));
        }

        ids.Sort(string.CompareOrdinal);
        return ids;
    }

    /// <summary>Loads the case with <paramref name="id"/> (<c>group/name</c>) from <paramref name="directory"/>.</summary>
    /// <param name="id">The id.</param>
    /// <param name="directory">The root folder (default corpus/verifier).</param>
    public static VerifierCase LoadById(string id, string? directory = null)
    {
        ArgumentNullException.ThrowIfNull(id);
        string root = directory ?? Directory;
        return Load(System.IO.Path.Combine(root, id.Replace('/', System.IO.Path.DirectorySeparatorChar) + ".case"), root);
    }

    /// <summary>Reads one case file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="root">The collection's root, for the group (default: the file's folder's parent).</param>
    /// <exception cref="FormatException">The case is malformed.</exception>
    public static VerifierCase Load(string path, string? root = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        string full = System.IO.Path.GetFullPath(path);
        string baseDir = root ?? System.IO.Path.GetDirectoryName(System.IO.Path.GetDirectoryName(full))!;
        string id = IdOf(full, baseDir);
        int slash = id.LastIndexOf('/');
        return Parse(File.ReadAllText(full), full, slash < 0 ? string.Empty : id[..slash], slash < 0 ? id : id[(slash + 1)..]);
    }

    /// <summary>Parses the text of a case.</summary>
    /// <param name="text">The case.</param>
    /// <param name="path">Where it came from (for messages).</param>
    /// <param name="group">Its group.</param>
    /// <param name="name">Its name.</param>
    /// <exception cref="FormatException">The case is malformed.</exception>
    public static VerifierCase Parse(string text, string path = "", string group = "", string name = "")
    {
        ArgumentNullException.ThrowIfNull(text);
        var sections = SplitSections(text, path);
        string Required(string s) => sections.TryGetValue(s, out string? v) && v.Trim().Length > 0
            ? v.Trim()
            : throw Error(path, $"missing section '-- {s}'");
        string? Optional(string s) => sections.TryGetValue(s, out string? v) && v.Trim().Length > 0 ? v.Trim() : null;

        string progTypeName = Required("prog-type");
        if (!s_progTypes.TryGetValue(progTypeName, out var progType))
        {
            throw Error(path, $"unknown prog-type '{progTypeName}' (known: {string.Join(", ", s_progTypes.Keys)})");
        }

        AttachType attach = default;
        if (Optional("attach") is { } a && !s_attachTypes.TryGetValue(a, out attach))
        {
            throw Error(path, $"unknown attach type '{a}' (known: {string.Join(", ", s_attachTypes.Keys)})");
        }

        uint flags = 0;
        foreach (string w in (Optional("flags") ?? string.Empty).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            flags |= w switch
            {
                "frags" => 1u << 5,          // BPF_F_XDP_HAS_FRAGS
                "strict_alignment" => 1u << 0,  // BPF_F_STRICT_ALIGNMENT
                "any_alignment" => 1u << 1,     // BPF_F_ANY_ALIGNMENT
                _ => throw Error(path, $"unknown flag '{w}' (known: frags, strict_alignment, any_alignment)"),
            };
        }

        var maps = ParseMaps(Optional("maps"), path);
        string asm = Required("asm");
        Instruction[] slots;
        try
        {
            slots = AssembleWithMaps(asm, maps);
        }
        catch (AssemblerException e)
        {
            throw Error(path, "asm: " + e.Message);
        }

        string result = Required("result");
        if (result is not ("accept" or "reject"))
        {
            throw Error(path, $"result must be 'accept' or 'reject', not '{result}'");
        }

        bool accept = result == "accept";
        string? msg = Optional("msg") is { } m ? string.Join('\n', m.Split('\n').Select(l => l.TrimEnd('\r'))) : null;
        string? errno = Optional("errno");
        if (accept && (msg is not null || errno is not null))
        {
            throw Error(path, "an accepted case has no '-- msg' or '-- errno'");
        }

        if (!accept && (msg is null || errno is null))
        {
            throw Error(path, "a rejected case needs '-- msg' and '-- errno'");
        }

        if (errno is not null && !ErrnoNames.Contains(errno))
        {
            throw Error(path, $"unknown errno '{errno}'");
        }

        int? insn = Optional("insn") is { } i ? ParseInt(i, path, "insn") : null;
        uint? retval = Optional("retval") is { } r ? (uint)ParseLong(r, path, "retval") : null;
        if (retval is not null && !accept)
        {
            throw Error(path, "a rejected case has no '-- retval'");
        }

        ReadOnlyMemory<byte> packet = DefaultPacket;
        if (Optional("packet") is { } p)
        {
            string hex = string.Concat(p.Where(ch => !char.IsWhiteSpace(ch)));
            try
            {
                packet = Convert.FromHexString(hex);
            }
            catch (FormatException)
            {
                throw Error(path, "packet: not hex bytes");
            }
        }

        return new VerifierCase
        {
            Path = path,
            Group = group,
            Name = name,
            Description = Required("description"),
            ProgTypeName = progTypeName,
            ProgType = progType,
            Attach = attach,
            ProgFlags = flags,
            Maps = maps,
            Asm = asm,
            Slots = slots,
            Accept = accept,
            Msg = msg,
            Errno = errno,
            Insn = insn,
            Retval = retval,
            Packet = packet,
        };
    }

    /// <summary>Assembles <paramref name="asm"/> after rewriting <c>map[NAME]</c> and <c>.raw</c> lines.</summary>
    /// <param name="asm">The program text.</param>
    /// <param name="maps">The maps names refer to.</param>
    /// <exception cref="AssemblerException">The text does not assemble, or names an undeclared map.</exception>
    public static Instruction[] AssembleWithMaps(string asm, IReadOnlyList<VerifierCaseMap> maps)
    {
        ArgumentNullException.ThrowIfNull(asm);
        ArgumentNullException.ThrowIfNull(maps);
        string[] lines = asm.Split('\n');
        var raws = new List<Instruction>();
        var sb = new StringBuilder(asm.Length + 16);
        for (int ln = 0; ln < lines.Length; ln++)
        {
            string line = lines[ln].TrimEnd('\r');
            string trimmed = line.Trim();
            if (trimmed.StartsWith(".raw", StringComparison.Ordinal))
            {
                raws.Add(ParseRaw(trimmed, ln + 1));

                // A one-slot placeholder, found again by its immediate after assembly.
                sb.Append("r0 = ").Append((RawMagic + raws.Count - 1).ToString(CultureInfo.InvariantCulture)).Append('\n');
                continue;
            }

            sb.Append(RewriteMapNames(line, maps, ln + 1)).Append('\n');
        }

        var slots = Assembler.Assemble(sb.ToString());
        int found = 0;
        for (int pc = 0; pc < slots.Length && found < raws.Count; pc++)
        {
            var s = slots[pc];
            if (s.Opcode == Op.Mov64Imm && s.DstReg == 0 && s.Imm == RawMagic + found)
            {
                slots[pc] = raws[found++];
            }
            else if (s.IsLdImm64)
            {
                pc++;
            }
        }

        return found == raws.Count ? slots : throw new AssemblerException(0, "a .raw placeholder was not found after assembly");
    }

    private static string IdOf(string file, string root)
    {
        string rel = System.IO.Path.GetRelativePath(root, file).Replace(System.IO.Path.DirectorySeparatorChar, '/');
        return rel.EndsWith(".case", StringComparison.Ordinal) ? rel[..^5] : rel;
    }

    private static Dictionary<string, string> SplitSections(string text, string path)
    {
        var sections = new Dictionary<string, string>(StringComparer.Ordinal);
        string? current = null;
        var body = new StringBuilder();
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            if (line.StartsWith("-- ", StringComparison.Ordinal))
            {
                Flush();
                current = line[3..].Trim();
                if (!Sections.Contains(current))
                {
                    throw Error(path, $"unknown section '-- {current}' (known: {string.Join(", ", Sections)})");
                }

                if (sections.ContainsKey(current))
                {
                    throw Error(path, $"section '-- {current}' appears twice");
                }

                continue;
            }

            body.Append(line).Append('\n');
        }

        Flush();
        return sections;

        void Flush()
        {
            if (current is not null)
            {
                sections[current] = body.ToString();
            }

            body.Clear();
        }
    }

    private static List<VerifierCaseMap> ParseMaps(string? text, string path)
    {
        var maps = new List<VerifierCaseMap>();
        if (text is null)
        {
            return maps;
        }

        foreach (string raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            string[] w = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (w.Length < 5)
            {
                throw Error(path, $"maps: '{line}': expected NAME TYPE key=K value=V max=N [flags=F]");
            }

            if (!MapTypeNames.TryParse(w[1], out var type))
            {
                throw Error(path, $"maps: unknown map type '{w[1]}' (bpftool's names: hash, array, ...)");
            }

            uint? key = null, value = null, max = null;
            uint flags = 0;
            for (int i = 2; i < w.Length; i++)
            {
                int eq = w[i].IndexOf('=', StringComparison.Ordinal);
                string k = eq < 0 ? w[i] : w[i][..eq];
                uint v = eq < 0 ? throw Error(path, $"maps: '{w[i]}' is not key=value") : (uint)ParseLong(w[i][(eq + 1)..], path, k);
                switch (k)
                {
                    case "key": key = v; break;
                    case "value": value = v; break;
                    case "max": max = v; break;
                    case "flags": flags = v; break;
                    default: throw Error(path, $"maps: unknown attribute '{k}'");
                }
            }

            if (key is null || value is null || max is null)
            {
                throw Error(path, $"maps: '{line}' needs key=, value= and max=");
            }

            if (maps.Any(m => m.Name == w[0]))
            {
                throw Error(path, $"maps: '{w[0]}' declared twice");
            }

            maps.Add(new VerifierCaseMap(w[0], type, key.Value, value.Value, max.Value, flags, maps.Count));
        }

        return maps;
    }

    // map[NAME] -> map[idx:N]; map[fd:..] and map[idx:..] pass through.
    private static string RewriteMapNames(string line, IReadOnlyList<VerifierCaseMap> maps, int lineNo)
    {
        int at = 0;
        var sb = new StringBuilder(line.Length);
        while (true)
        {
            int i = line.IndexOf("map[", at, StringComparison.Ordinal);
            if (i < 0 || (i > 0 && (char.IsAsciiLetterOrDigit(line[i - 1]) || line[i - 1] == '_')))
            {
                if (i < 0)
                {
                    sb.Append(line, at, line.Length - at);
                    return sb.ToString();
                }

                sb.Append(line, at, i + 4 - at);
                at = i + 4;
                continue;
            }

            int close = line.IndexOf(']', i);
            string name = close < 0 ? string.Empty : line[(i + 4)..close];
            sb.Append(line, at, i + 4 - at);
            at = i + 4;
            if (name.Length == 0 || name.Contains(':', StringComparison.Ordinal))
            {
                continue;
            }

            var map = maps.FirstOrDefault(m => m.Name == name)
                ?? throw new AssemblerException(lineNo, $"map '{name}' is not declared in '-- maps'");
            sb.Append("idx:").Append(map.Index.ToString(CultureInfo.InvariantCulture));
            at = close;
        }
    }

    // .raw OPCODE DST SRC OFF IMM
    private static Instruction ParseRaw(string text, int lineNo)
    {
        string[] w = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (w.Length != 6)
        {
            throw new AssemblerException(lineNo, ".raw takes OPCODE DST SRC OFF IMM");
        }

        long[] v = new long[5];
        for (int i = 0; i < 5; i++)
        {
            v[i] = ParseLong(w[i + 1], string.Empty, ".raw");
        }

        return new Instruction((byte)v[0], (byte)(((v[2] & 0xf) << 4) | (v[1] & 0xf)), (short)v[3], (int)v[4]);
    }

    private static int ParseInt(string s, string path, string what) => checked((int)ParseLong(s, path, what));

    private static long ParseLong(string s, string path, string what)
    {
        s = s.Trim();
        bool neg = s.StartsWith('-');
        string body = neg ? s[1..] : s;
        bool ok = body.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? long.TryParse(body[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long v)
            : long.TryParse(body, NumberStyles.None, CultureInfo.InvariantCulture, out v);
        return ok ? (neg ? -v : v) : throw Error(path, $"{what}: '{s}' is not a number");
    }

    private static FormatException Error(string path, string message) =>
        new(path.Length == 0 ? message : $"{path}: {message}");

    private static byte[] MakeDefaultPacket()
    {
        var p = new byte[64];
        p[12] = 0x08;   // EtherType IPv4
        return p;
    }
}
