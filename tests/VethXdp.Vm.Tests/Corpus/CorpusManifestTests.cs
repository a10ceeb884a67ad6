using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using VethXdp.Vm.Isa;

namespace VethXdp.Vm.Tests.Corpus;

/// <summary>corpus/manifest.json against the files it describes: every C source has its objects, goldens and a
/// manifest entry; every listed pcap is a readable classic pcap with one expected verdict per record; every program
/// a run names is in its object; the helpers each entry lists are the ones its code calls; and the corpus as a
/// whole covers what issue 3 (item 9) asks for. The pcap and ELF bytes are read here by hand, on purpose: these
/// tests check the corpus, not our readers.</summary>
public class CorpusManifestTests
{
    private static string CorpusDir => TestPaths.CorpusDir;

    private static string XdpDir => Path.Combine(CorpusDir, "xdp");

    private static readonly string[] Cpus = ["v2", "v3", "v4"];

    /// <summary>Sources that may not open with a comment, each with the reason.</summary>
    private static readonly Dictionary<string, string> CommentExemptions = new(StringComparer.Ordinal)
    {
        ["sample_xdp.c"] = "a verbatim copy of ../shared/reference/sample_xdp.c, whose disassembly must match the "
            + "reference listing byte for byte (DisasmGoldenTests)",
    };

    /// <summary>Issue 3, item 9: what the corpus as a whole must show, as the manifest's "covers" tags.</summary>
    private static readonly string[] RequiredCoverage =
    [
        "paper:drop", "paper:tx", "paper:redirect",
        "parse:ethernet", "parse:vlan", "parse:qinq", "parse:ipv4-options", "parse:ipv6-extension-headers",
        "parse:tcp", "parse:udp", "parse:icmp",
        "firewall:lpm", "flow-counter:hash", "conntrack:lru",
        "encap:adjust_head", "decap:adjust_head", "truncate:adjust_tail", "metadata:adjust_meta",
        "routing:fib_lookup", "tail-calls:prog_array", "bpf-to-bpf-calls",
        "global:.data", "global:.rodata", "global:.bss",
        "bounded-loop", "bpf_loop", "ringbuf", "trace_printk", "legacy-maps-section",
        "cpu-v4:ldsx", "cpu-v4:sdiv", "cpu-v4:bswap", "cpu-v4:gotol",
    ];

    /// <summary>Issue 3, item 3: helpers each of which some corpus program must call.</summary>
    private static readonly string[] RequiredHelpers =
    [
        "bpf_map_lookup_elem", "bpf_map_update_elem", "bpf_map_delete_elem", "bpf_map_push_elem", "bpf_map_pop_elem",
        "bpf_map_peek_elem", "bpf_ktime_get_ns", "bpf_ktime_get_boot_ns", "bpf_ktime_get_coarse_ns", "bpf_jiffies64",
        "bpf_get_prandom_u32", "bpf_get_smp_processor_id", "bpf_tail_call", "bpf_redirect", "bpf_redirect_map",
        "bpf_xdp_adjust_head", "bpf_xdp_adjust_meta", "bpf_xdp_adjust_tail", "bpf_xdp_get_buff_len",
        "bpf_xdp_load_bytes", "bpf_xdp_store_bytes", "bpf_csum_diff", "bpf_fib_lookup", "bpf_check_mtu",
        "bpf_sk_lookup_tcp", "bpf_sk_lookup_udp", "bpf_skc_lookup_tcp", "bpf_sk_release",
        "bpf_tcp_raw_gen_syncookie_ipv4", "bpf_tcp_raw_gen_syncookie_ipv6",
        "bpf_tcp_raw_check_syncookie_ipv4", "bpf_tcp_raw_check_syncookie_ipv6",
        "bpf_trace_printk", "bpf_trace_vprintk", "bpf_perf_event_output",
        "bpf_ringbuf_output", "bpf_ringbuf_reserve", "bpf_ringbuf_submit", "bpf_ringbuf_discard", "bpf_ringbuf_query",
        "bpf_ringbuf_reserve_dynptr", "bpf_ringbuf_submit_dynptr", "bpf_ringbuf_discard_dynptr",
        "bpf_dynptr_read", "bpf_dynptr_write", "bpf_dynptr_data", "bpf_loop", "bpf_for_each_map_elem",
        "bpf_spin_lock", "bpf_spin_unlock", "bpf_probe_read_kernel",
    ];

    private static readonly string[] RequiredKfuncs =
    [
        "bpf_dynptr_from_xdp", "bpf_dynptr_slice", "bpf_dynptr_slice_rdwr",
        "bpf_xdp_metadata_rx_timestamp", "bpf_xdp_metadata_rx_hash", "bpf_xdp_metadata_rx_vlan_tag",
    ];

    private static readonly HashSet<string> Verdicts =
        ["XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT", "error:EINVAL"];

    private static readonly Lazy<JsonDocument> s_manifest =
        new(() => JsonDocument.Parse(File.ReadAllBytes(Path.Combine(CorpusDir, "manifest.json"))));

    private static JsonElement Manifest => s_manifest.Value.RootElement;

    private static IEnumerable<JsonElement> Objects => Manifest.GetProperty("objects").EnumerateArray();

    private static JsonElement Entry(string name) =>
        Objects.Single(o => o.GetProperty("name").GetString() == name);

    public static TheoryData<string> Sources()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(XdpDir, "*.c").OrderBy(p => p, StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(path));
        }

        return data;
    }

    public static TheoryData<string> Entries()
    {
        var data = new TheoryData<string>();
        foreach (var o in Objects)
        {
            data.Add(o.GetProperty("name").GetString()!);
        }

        return data;
    }

    [Fact]
    public void Manifest_Parses_DescribesKernelEnvironmentsAndObjects()
    {
        Assert.StartsWith("Linux ", Manifest.GetProperty("kernel").GetString(), StringComparison.Ordinal);
        var environments = Manifest.GetProperty("environments");
        Assert.Equal(1, environments.GetProperty("default").GetProperty("ingressIfindex").GetInt32());
        Assert.True(environments.GetProperty("lab").GetProperty("netns").GetBoolean());
        Assert.True(Objects.Count() >= 25, $"the corpus needs at least 25 programs, the manifest lists {Objects.Count()}");
        var names = Objects.Select(o => o.GetProperty("name").GetString()).ToList();
        Assert.Equal(names.Count, names.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Manifest_EveryCSource_HasAnEntryAndEveryEntryASource()
    {
        var sources = Directory.GetFiles(XdpDir, "*.c").Select(Path.GetFileNameWithoutExtension).ToHashSet(StringComparer.Ordinal);
        var entries = Objects.Select(o => o.GetProperty("name").GetString()!).ToHashSet(StringComparer.Ordinal);

        AssertNone(sources.Except(entries), "sources without a manifest entry");
        AssertNone(entries.Except(sources), "manifest entries without a source");
        foreach (var o in Objects)
        {
            Assert.Equal($"xdp/{o.GetProperty("name").GetString()}.c", o.GetProperty("source").GetString());
        }
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void Source_AtEveryCpu_HasObjectAndLlvmObjdumpGolden(string source)
    {
        var stem = Path.GetFileNameWithoutExtension(source);
        var objects = Entry(stem).GetProperty("objects");
        foreach (var cpu in Cpus)
        {
            var obj = Path.Combine(XdpDir, $"{stem}.{cpu}.o");
            Assert.Equal($"xdp/{stem}.{cpu}.o", objects.GetProperty(cpu).GetString());
            Assert.True(File.Exists(obj), $"{obj} is missing: run make in corpus/xdp");
            Assert.True(new ElfFile(File.ReadAllBytes(obj)).IsBpfRelocatable, $"{obj} is not an ELF64 EM_BPF relocatable object");

            var golden = Path.Combine(XdpDir, $"{stem}.{cpu}.objdump");
            Assert.True(File.Exists(golden), $"{golden} is missing");
            var first = File.ReadLines(golden).First();
            Assert.StartsWith($"# llvm-objdump-19 -d {stem}.{cpu}.o  (", first, StringComparison.Ordinal);
            Assert.EndsWith($"-mcpu={cpu})", first, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void Source_OpensWithACommentSayingWhatItShows(string source)
    {
        var lines = File.ReadAllLines(Path.Combine(XdpDir, source));
        if (CommentExemptions.TryGetValue(source, out var reason))
        {
            Assert.False(string.IsNullOrWhiteSpace(reason));
            Assert.StartsWith("#include", lines[0], StringComparison.Ordinal);    // else the exemption is stale
            return;
        }

        var opening = lines.TakeWhile(l => l.StartsWith("//", StringComparison.Ordinal) || l.StartsWith("/*", StringComparison.Ordinal)
            || l.StartsWith(" *", StringComparison.Ordinal)).ToList();
        var prose = opening.Where(l => !l.Contains("SPDX-License-Identifier", StringComparison.Ordinal)).ToList();
        Assert.True(prose.Count > 0, $"{source} must open with a comment that says what it shows");
        Assert.True(string.Join(' ', prose).Length >= 40, $"{source}: the opening comment is too short to say what it shows");
    }

    [Theory]
    [MemberData(nameof(Entries))]
    public void Entry_EveryRun_NamesAProgramOfItsObjectAnEnvironmentAndAReadablePcap(string name)
    {
        var entry = Entry(name);
        var programs = entry.GetProperty("programs").EnumerateArray().ToList();
        Assert.NotEmpty(programs);
        var symbols = new ElfFile(File.ReadAllBytes(Path.Combine(CorpusDir, entry.GetProperty("objects").GetProperty("v4").GetString()!)))
            .FunctionSymbols();
        foreach (var p in programs)
        {
            var section = p.GetProperty("section").GetString()!;
            Assert.Contains((p.GetProperty("name").GetString()!, section), symbols);
            Assert.Equal("xdp", p.GetProperty("type").GetString());
            Assert.True(section is "xdp" or "xdp.frags" or "xdp/devmap" or "xdp/cpumap", $"{name}: unexpected section {section}");
        }

        var environments = Manifest.GetProperty("environments");
        var runs = entry.GetProperty("runs").EnumerateArray().ToList();
        Assert.NotEmpty(runs);
        foreach (var run in runs)
        {
            var program = run.GetProperty("program").GetString()!;
            Assert.Contains(programs, p => p.GetProperty("name").GetString() == program);
            Assert.True(environments.TryGetProperty(run.GetProperty("environment").GetString()!, out _));

            var pcap = Path.Combine(CorpusDir, run.GetProperty("pcap").GetString()!);
            Assert.True(File.Exists(pcap), $"{name}: {pcap} is missing");
            int records = ClassicPcap.CountRecords(File.ReadAllBytes(pcap), pcap);

            var expected = run.GetProperty("expected");
            if (expected.ValueKind == JsonValueKind.Null)
            {
                Assert.True(entry.TryGetProperty("expectedFailure", out _), $"{name}: a run without verdicts needs an expectedFailure");
                continue;
            }

            var verdicts = expected.EnumerateArray().Select(v => v.GetString()!).ToList();
            Assert.Equal(records, verdicts.Count);
            Assert.All(verdicts, v => Assert.Contains(v, Verdicts));
            Assert.StartsWith("Linux ", run.GetProperty("expectedFrom").GetString(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(Entries))]
    public void Entry_SkipsAndFailures_CarryAKindAndAReason(string name)
    {
        var entry = Entry(name);
        if (entry.TryGetProperty("kernelSkipFields", out var skips))
        {
            foreach (var skip in skips.EnumerateArray())
            {
                Assert.Contains(skip.GetProperty("field").GetString(), new[] { "data", "map", "events", "trace" });
                Assert.False(string.IsNullOrWhiteSpace(skip.GetProperty("reason").GetString()));
            }
        }

        if (entry.TryGetProperty("expectedFailure", out var failure))
        {
            Assert.False(string.IsNullOrWhiteSpace(failure.GetProperty("kind").GetString()));
            Assert.False(string.IsNullOrWhiteSpace(failure.GetProperty("reason").GetString()));
        }

        if (entry.TryGetProperty("kernelSkipPrograms", out var programs))
        {
            foreach (var p in programs.EnumerateArray())
            {
                Assert.Contains(entry.GetProperty("programs").EnumerateArray(), q => q.GetProperty("name").GetString() == p.GetProperty("program").GetString());
                Assert.False(string.IsNullOrWhiteSpace(p.GetProperty("reason").GetString()));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Entries))]
    public void Entry_Helpers_AreTheHelpersAndKfuncsItsCodeCalls(string name)
    {
        var entry = Entry(name);
        var helpers = new SortedSet<string>(StringComparer.Ordinal);
        var kfuncs = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var cpu in Cpus)
        {
            var elf = new ElfFile(File.ReadAllBytes(Path.Combine(CorpusDir, entry.GetProperty("objects").GetProperty(cpu).GetString()!)));
            foreach (var id in elf.HelperCalls())
            {
                helpers.Add(HelperNames.Name(id) ?? $"helper#{id}");
            }

            kfuncs.UnionWith(elf.KfuncCalls());
        }

        Assert.Equal(helpers, entry.GetProperty("helpers").EnumerateArray().Select(h => h.GetString()!).ToList());
        var listed = entry.TryGetProperty("kfuncs", out var k) ? k.EnumerateArray().Select(h => h.GetString()!).ToList() : [];
        Assert.Equal(kfuncs, listed);
    }

    [Fact]
    public void Corpus_Covers_EveryItemOfIssue3Item9()
    {
        var covered = Objects.SelectMany(o => o.GetProperty("covers").EnumerateArray().Select(c => c.GetString()!))
            .ToHashSet(StringComparer.Ordinal);

        AssertNone(RequiredCoverage.Where(c => !covered.Contains(c)), "issue 3 item 9 asks for, and no entry covers");
    }

    [Fact]
    public void Corpus_CallsEveryHelperAndKfuncTheIssueLists()
    {
        var helpers = Objects.SelectMany(o => o.GetProperty("helpers").EnumerateArray().Select(h => h.GetString()!))
            .ToHashSet(StringComparer.Ordinal);
        var kfuncs = Objects.Where(o => o.TryGetProperty("kfuncs", out _))
            .SelectMany(o => o.GetProperty("kfuncs").EnumerateArray().Select(h => h.GetString()!)).ToHashSet(StringComparer.Ordinal);

        AssertNone(RequiredHelpers.Where(h => !helpers.Contains(h)), "helpers no corpus program calls");
        AssertNone(RequiredKfuncs.Where(k => !kfuncs.Contains(k)), "kfuncs no corpus program calls");
    }

    [Theory]
    [InlineData("cpu-v4:ldsx", new byte[] { 0x91, 0x89, 0x81 })]      // ldxsb, ldxsh, ldxsw
    [InlineData("cpu-v4:bswap", new byte[] { 0xd7 })]                  // BPF_ALU64 | BPF_END: bswap16/32/64
    [InlineData("cpu-v4:gotol", new byte[] { 0x06 })]                  // BPF_JMP32 | BPF_JA
    public void CoversTag_AtCpuV4_ObjectHasTheOpcode(string tag, byte[] opcodes)
    {
        var entries = Objects.Where(o => o.GetProperty("covers").EnumerateArray().Any(c => c.GetString() == tag)).ToList();
        Assert.NotEmpty(entries);
        foreach (var entry in entries)
        {
            var elf = new ElfFile(File.ReadAllBytes(Path.Combine(CorpusDir, entry.GetProperty("objects").GetProperty("v4").GetString()!)));
            var seen = elf.CodeSlots().Select(s => s[0]).ToHashSet();
            Assert.All(opcodes, op => Assert.Contains(op, seen));
        }
    }

    [Fact]
    public void CoversTag_CpuV4SignedDivision_ObjectHasSdivAndSmodWithOffsetOne()
    {
        var entry = Objects.Single(o => o.GetProperty("covers").EnumerateArray().Any(c => c.GetString() == "cpu-v4:sdiv"));
        var v4 = new ElfFile(File.ReadAllBytes(Path.Combine(CorpusDir, entry.GetProperty("objects").GetProperty("v4").GetString()!)));
        var v3 = new ElfFile(File.ReadAllBytes(Path.Combine(CorpusDir, entry.GetProperty("objects").GetProperty("v3").GetString()!)));

        static bool Signed(byte[] s, int op) => (s[0] & 0xf7) == op && BinaryPrimitives.ReadInt16LittleEndian(s.AsSpan(2)) == 1;
        Assert.Contains(v4.CodeSlots(), s => Signed(s, 0x37) || Signed(s, 0x34));      // sdiv (64/32-bit, K or X)
        Assert.Contains(v4.CodeSlots(), s => Signed(s, 0x97) || Signed(s, 0x94));      // smod
        Assert.DoesNotContain(v3.CodeSlots(), s => Signed(s, 0x37) || Signed(s, 0x34) || Signed(s, 0x97) || Signed(s, 0x94));
    }

    [Fact]
    public void Pcaps_EveryFileInTheFolder_IsListedByARun()
    {
        var listed = Objects.SelectMany(o => o.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("pcap").GetString()!))
            .Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
        var files = Directory.GetFiles(Path.Combine(CorpusDir, "pcaps"), "*.pcap").Select(Path.GetFileName).ToList();

        Assert.NotEmpty(files);
        AssertNone(files.Where(f => !listed.Contains(f!)), "pcaps no run lists");
    }

    [Fact]
    public void Readme_NamesEveryProgram()
    {
        var readme = File.ReadAllText(Path.Combine(CorpusDir, "README.md"));

        AssertNone(Directory.GetFiles(XdpDir, "*.c").Select(Path.GetFileName).Where(f => !readme.Contains($"`{f}`", StringComparison.Ordinal)),
            "sources corpus/README.md does not name");
    }

    [Theory]
    [InlineData(new byte[] { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0 }, 0)]
    [InlineData(new byte[] { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 9, 0, 0, 0, 0xaa, 0xbb }, 1)]
    public void ClassicPcap_WellFormed_CountsRecords(byte[] bytes, int records)
    {
        Assert.Equal(records, ClassicPcap.CountRecords(bytes, "test"));
    }

    [Theory]
    [InlineData(new byte[] { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0 })]                                            // header cut short
    [InlineData(new byte[] { 0x0a, 0x0d, 0x0d, 0x0a, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0 })] // pcapng
    [InlineData(new byte[] { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 9, 0, 0, 0, 0xaa })]                                             // record cut short
    [InlineData(new byte[] { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0xaa, 0xbb })]                                       // incl > orig
    public void ClassicPcap_Malformed_Fails(byte[] bytes)
    {
        Assert.ThrowsAny<Exception>(() => ClassicPcap.CountRecords(bytes, "test"));
    }

    private static void AssertNone(IEnumerable<string?> items, string what)
    {
        var list = items.ToList();
        Assert.True(list.Count == 0, $"{what}: {string.Join(", ", list)}");
    }

    /// <summary>The classic pcap format, as the corpus writes it: little-endian magic a1b2c3d4 (microseconds),
    /// version 2.4, LINKTYPE_ETHERNET; each record a 16-byte header (seconds, microseconds, captured length,
    /// original length) and its bytes.</summary>
    private static class ClassicPcap
    {
        public static int CountRecords(byte[] b, string what)
        {
            Assert.True(b.Length >= 24, $"{what}: shorter than the 24-byte pcap header");
            Assert.True(BinaryPrimitives.ReadUInt32LittleEndian(b) == 0xa1b2c3d4, $"{what}: not a little-endian microsecond pcap");
            Assert.Equal(2, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(4)));
            Assert.Equal(4, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(6)));
            uint snaplen = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(16));
            Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(20)));     // LINKTYPE_ETHERNET

            int count = 0;
            int at = 24;
            while (at < b.Length)
            {
                Assert.True(b.Length - at >= 16, $"{what}: record {count} header cut short at byte {at}");
                uint micros = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at + 4));
                uint incl = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at + 8));
                uint orig = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at + 12));
                Assert.True(micros < 1_000_000, $"{what}: record {count}: {micros} microseconds");
                Assert.True(incl <= orig && incl <= snaplen, $"{what}: record {count}: captured {incl}, original {orig}, snaplen {snaplen}");
                Assert.True(b.Length - at - 16 >= incl, $"{what}: record {count} cut short");
                at += 16 + (int)incl;
                count++;
            }

            return count;
        }
    }

    /// <summary>Just enough of ELF64 little-endian to find code, function symbols, helper calls and kfunc calls.</summary>
    private sealed class ElfFile
    {
        private const uint ShtSymtab = 2;
        private const uint ShtRel = 9;
        private const ulong ShfExecinstr = 4;

        private readonly byte[] _b;
        private readonly List<(string Name, uint Type, ulong Flags, int Offset, int Size, uint Link, uint Info)> _sections = [];
        private readonly List<(string Name, int Type, int Shndx, ulong Value)> _symbols = [];

        public ElfFile(byte[] bytes)
        {
            _b = bytes;
            IsBpfRelocatable = bytes.Length > 64 && bytes[0] == 0x7f && bytes[1] == (byte)'E' && bytes[4] == 2 && bytes[5] == 1
                && BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(16)) == 1 && BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(18)) == 247;
            if (!IsBpfRelocatable)
            {
                return;
            }

            int shoff = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(0x28));
            int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(0x3a));
            int shnum = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(0x3c));
            int shstrndx = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(0x3e));
            var raw = new List<(uint Name, uint Type, ulong Flags, int Offset, int Size, uint Link, uint Info)>();
            for (int i = 0; i < shnum; i++)
            {
                var h = bytes.AsSpan(shoff + i * shentsize);
                raw.Add((BinaryPrimitives.ReadUInt32LittleEndian(h), BinaryPrimitives.ReadUInt32LittleEndian(h[4..]),
                    BinaryPrimitives.ReadUInt64LittleEndian(h[8..]), (int)BinaryPrimitives.ReadUInt64LittleEndian(h[24..]),
                    (int)BinaryPrimitives.ReadUInt64LittleEndian(h[32..]), BinaryPrimitives.ReadUInt32LittleEndian(h[40..]),
                    BinaryPrimitives.ReadUInt32LittleEndian(h[44..])));
            }

            int strtab = raw[shstrndx].Offset;
            foreach (var s in raw)
            {
                _sections.Add((CString(strtab + (int)s.Name), s.Type, s.Flags, s.Offset, s.Size, s.Link, s.Info));
            }

            var symtab = _sections.FirstOrDefault(s => s.Type == ShtSymtab);
            if (symtab.Size > 0)
            {
                int names = _sections[(int)symtab.Link].Offset;
                for (int at = symtab.Offset; at < symtab.Offset + symtab.Size; at += 24)
                {
                    _symbols.Add((CString(names + (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at))), bytes[at + 4] & 0xf,
                        BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at + 6)), BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at + 8))));
                }
            }
        }

        public bool IsBpfRelocatable { get; }

        /// <summary>(function symbol, its section) for every STT_FUNC defined in a section.</summary>
        public HashSet<(string, string)> FunctionSymbols() =>
            _symbols.Where(s => s.Type == 2 && s.Shndx > 0 && s.Shndx < _sections.Count).Select(s => (s.Name, _sections[s.Shndx].Name)).ToHashSet();

        /// <summary>Every 8-byte slot of every executable section.</summary>
        public IEnumerable<byte[]> CodeSlots()
        {
            foreach (var s in _sections.Where(s => (s.Flags & ShfExecinstr) != 0))
            {
                for (int at = s.Offset; at + 8 <= s.Offset + s.Size; at += 8)
                {
                    yield return _b.AsSpan(at, 8).ToArray();
                }
            }
        }

        /// <summary>Helper ids of call instructions with src_reg 0 that no relocation retargets.</summary>
        public IEnumerable<int> HelperCalls()
        {
            for (int i = 0; i < _sections.Count; i++)
            {
                var s = _sections[i];
                if ((s.Flags & ShfExecinstr) == 0)
                {
                    continue;
                }

                var relocated = Relocations(i).Select(r => r.Offset).ToHashSet();
                for (int off = 0; off + 8 <= s.Size; off += 8)
                {
                    var insn = _b.AsSpan(s.Offset + off, 8);
                    int imm = BinaryPrimitives.ReadInt32LittleEndian(insn[4..]);
                    if (insn[0] == 0x85 && (insn[1] >> 4) == 0 && imm != -1 && !relocated.Contains(off))
                    {
                        yield return imm;
                    }
                }
            }
        }

        /// <summary>Names of the undefined symbols call instructions are relocated against: kfuncs (clang writes them as
        /// pseudo calls, src_reg 1, imm -1; the loader makes them BPF_PSEUDO_KFUNC_CALL).</summary>
        public IEnumerable<string> KfuncCalls()
        {
            for (int i = 0; i < _sections.Count; i++)
            {
                var s = _sections[i];
                if ((s.Flags & ShfExecinstr) == 0)
                {
                    continue;
                }

                foreach (var (offset, symbol) in Relocations(i))
                {
                    var insn = _b.AsSpan(s.Offset + offset, 8);
                    if (insn[0] == 0x85 && _symbols[symbol].Shndx == 0)
                    {
                        yield return _symbols[symbol].Name;
                    }
                }
            }
        }

        private IEnumerable<(int Offset, int Symbol)> Relocations(int section)
        {
            foreach (var r in _sections.Where(r => r.Type == ShtRel && r.Info == section))
            {
                for (int at = r.Offset; at + 16 <= r.Offset + r.Size; at += 16)
                {
                    yield return ((int)BinaryPrimitives.ReadUInt64LittleEndian(_b.AsSpan(at)), (int)(BinaryPrimitives.ReadUInt64LittleEndian(_b.AsSpan(at + 8)) >> 32));
                }
            }
        }

        private string CString(int at)
        {
            int end = Array.IndexOf(_b, (byte)0, at);
            return Encoding.ASCII.GetString(_b, at, end - at);
        }
    }
}
