using System.Text.RegularExpressions;
using VethXdp.Vm.Isa;

namespace VethXdp.Vm.Tests.Isa;

public partial class KernelFormatterTests
{
    private static Instruction[] Slots(string hex) => BpfProgram.DecodeSlots(Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal)));

    // Raw slot bytes -> the text Linux 6.18's print_bpf_insn() writes (kernel/bpf/disasm.c).
    [Theory]
    // ALU64 / ALU, immediate and register forms
    [InlineData("b4 00 00 00 00 00 00 00", "w0 = 0")]
    [InlineData("b7 01 00 00 ff ff ff ff", "r1 = -1")]
    [InlineData("07 01 00 00 0e 00 00 00", "r1 += 14")]
    [InlineData("07 02 00 00 fc ff ff ff", "r2 += -4")]
    [InlineData("0f 21 00 00 00 00 00 00", "r1 += r2")]
    [InlineData("0c 21 00 00 00 00 00 00", "w1 += w2")]
    [InlineData("1f 21 00 00 00 00 00 00", "r1 -= r2")]
    [InlineData("2f 21 00 00 00 00 00 00", "r1 *= r2")]
    [InlineData("34 01 00 00 03 00 00 00", "w1 /= 3")]
    [InlineData("44 01 00 00 03 00 00 00", "w1 |= 3")]
    [InlineData("4c 12 00 00 00 00 00 00", "w2 |= w1")]
    [InlineData("54 01 00 00 ff 00 00 00", "w1 &= 255")]
    [InlineData("64 02 00 00 08 00 00 00", "w2 <<= 8")]
    [InlineData("7f 21 00 00 00 00 00 00", "r1 >>= r2")]
    [InlineData("94 01 00 00 03 00 00 00", "w1 %= 3")]
    [InlineData("a4 01 00 00 ff ff ff ff", "w1 ^= -1")]
    [InlineData("bf a2 00 00 00 00 00 00", "r2 = r10")]
    [InlineData("c7 01 00 00 03 00 00 00", "r1 s>>= 3")]
    [InlineData("cc 21 00 00 00 00 00 00", "w1 s>>= w2")]
    // v4: signed div/mod (offset 1), movsx (offset 8/16/32)
    [InlineData("37 01 01 00 03 00 00 00", "r1 s/= 3")]
    [InlineData("3f 21 01 00 00 00 00 00", "r1 s/= r2")]
    [InlineData("97 01 01 00 05 00 00 00", "r1 s%= 5")]
    [InlineData("9c 21 01 00 00 00 00 00", "w1 s%= w2")]
    [InlineData("bf 21 08 00 00 00 00 00", "r1 = (s8)r2")]
    [InlineData("bf 21 10 00 00 00 00 00", "r1 = (s16)r2")]
    [InlineData("bf 21 20 00 00 00 00 00", "r1 = (s32)r2")]
    [InlineData("bc 21 08 00 00 00 00 00", "w1 = (s8)w2")]
    // neg, byte order (ALU le/be print 'r' too), v4 bswap
    [InlineData("87 01 00 00 00 00 00 00", "r1 = -r1")]
    [InlineData("84 01 00 00 00 00 00 00", "w1 = -w1")]
    [InlineData("dc 01 00 00 10 00 00 00", "r1 = be16 r1")]
    [InlineData("d4 01 00 00 40 00 00 00", "r1 = le64 r1")]
    [InlineData("d7 01 00 00 10 00 00 00", "r1 = bswap16 r1")]
    // loads, sign-extending loads, stores
    [InlineData("61 12 04 00 00 00 00 00", "r2 = *(u32 *)(r1 +4)")]
    [InlineData("69 12 00 00 00 00 00 00", "r2 = *(u16 *)(r1 +0)")]
    [InlineData("71 61 0c 00 00 00 00 00", "r1 = *(u8 *)(r6 +12)")]
    [InlineData("79 21 fc ff 00 00 00 00", "r1 = *(u64 *)(r2 -4)")]
    [InlineData("91 21 00 00 00 00 00 00", "r1 = *(s8 *)(r2 +0)")]
    [InlineData("89 21 02 00 00 00 00 00", "r1 = *(s16 *)(r2 +2)")]
    [InlineData("81 21 08 00 00 00 00 00", "r1 = *(s32 *)(r2 +8)")]
    [InlineData("62 0a fc ff 00 00 00 00", "*(u32 *)(r10 -4) = 0")]
    [InlineData("72 01 03 00 ff ff ff ff", "*(u8 *)(r1 +3) = -1")]
    [InlineData("6a 01 ff 7f 00 80 ff ff", "*(u16 *)(r1 +32767) = -32768")]
    [InlineData("7a 0a f8 ff 07 00 00 00", "*(u64 *)(r10 -8) = 7")]
    [InlineData("7b 10 00 00 00 00 00 00", "*(u64 *)(r0 +0) = r1")]
    [InlineData("63 1a 00 80 00 00 00 00", "*(u32 *)(r10 -32768) = r1")]
    // atomics
    [InlineData("db 21 00 00 00 00 00 00", "lock *(u64 *)(r1 +0) += r2")]
    [InlineData("c3 21 fc ff 40 00 00 00", "lock *(u32 *)(r1 -4) |= r2")]
    [InlineData("db 21 00 00 50 00 00 00", "lock *(u64 *)(r1 +0) &= r2")]
    [InlineData("c3 21 00 00 a0 00 00 00", "lock *(u32 *)(r1 +0) ^= r2")]
    [InlineData("db 21 08 00 01 00 00 00", "r2 = atomic64_fetch_add((u64 *)(r1 +8), r2)")]
    [InlineData("c3 21 00 00 01 00 00 00", "r2 = atomic_fetch_add((u32 *)(r1 +0), r2)")]
    [InlineData("db 21 00 00 41 00 00 00", "r2 = atomic64_fetch_or((u64 *)(r1 +0), r2)")]
    [InlineData("c3 21 00 00 51 00 00 00", "r2 = atomic_fetch_and((u32 *)(r1 +0), r2)")]
    [InlineData("db 21 00 00 a1 00 00 00", "r2 = atomic64_fetch_xor((u64 *)(r1 +0), r2)")]
    [InlineData("db 21 00 00 e1 00 00 00", "r2 = atomic64_xchg((u64 *)(r1 +0), r2)")]
    [InlineData("c3 21 00 00 e1 00 00 00", "r2 = atomic_xchg((u32 *)(r1 +0), r2)")]
    [InlineData("db 21 00 00 f1 00 00 00", "r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)")]
    [InlineData("c3 a1 f8 ff f1 00 00 00", "r0 = atomic_cmpxchg((u32 *)(r1 -8), r0, r10)")]
    [InlineData("db 21 00 00 00 01 00 00", "r1 = load_acquire((u64 *)(r2 +0))")]
    [InlineData("db 21 00 00 10 01 00 00", "store_release((u64 *)(r1 +0), r2)")]
    // jumps
    [InlineData("05 00 02 00 00 00 00 00", "goto pc+2")]
    [InlineData("05 00 fe ff 00 00 00 00", "goto pc-2")]
    [InlineData("06 00 00 00 fd ff ff ff", "gotol pc-3")]
    [InlineData("15 00 03 00 00 00 00 00", "if r0 == 0x0 goto pc+3")]
    [InlineData("15 01 01 00 ff ff ff ff", "if r1 == 0xffffffff goto pc+1")]
    [InlineData("2d 21 15 00 00 00 00 00", "if r1 > r2 goto pc+21")]
    [InlineData("56 02 05 00 08 00 00 00", "if w2 != 0x8 goto pc+5")]
    [InlineData("35 01 00 00 07 00 00 00", "if r1 >= 0x7 goto pc+0")]
    [InlineData("45 01 01 00 08 00 00 00", "if r1 & 0x8 goto pc+1")]
    [InlineData("6e 21 01 00 00 00 00 00", "if w1 s> w2 goto pc+1")]
    [InlineData("75 01 01 00 00 00 00 00", "if r1 s>= 0x0 goto pc+1")]
    [InlineData("ad 21 ff ff 00 00 00 00", "if r1 < r2 goto pc-1")]
    [InlineData("b6 01 01 00 07 00 00 00", "if w1 <= 0x7 goto pc+1")]
    [InlineData("cd 21 01 00 00 00 00 00", "if r1 s< r2 goto pc+1")]
    [InlineData("d5 01 01 00 00 00 00 80", "if r1 s<= 0x80000000 goto pc+1")]
    [InlineData("95 00 00 00 00 00 00 00", "exit")]
    // calls: helper by name, unknown id, BPF-to-BPF, kfunc (no BTF: disasm.c's fallback), callx (ours)
    [InlineData("85 00 00 00 01 00 00 00", "call bpf_map_lookup_elem#1")]
    [InlineData("85 00 00 00 33 00 00 00", "call bpf_redirect_map#51")]
    [InlineData("85 00 00 00 d4 00 00 00", "call unknown#212")]
    [InlineData("85 00 00 00 ff ff ff ff", "call unknown#-1")]
    [InlineData("85 10 00 00 05 00 00 00", "call pc+5")]
    [InlineData("85 10 00 00 fe ff ff ff", "call pc-2")]
    [InlineData("85 20 00 00 4d 00 00 00", "call kernel-function#77")]
    [InlineData("8d 02 00 00 00 00 00 00", "callx r2")]
    // legacy packet loads
    [InlineData("30 00 00 00 0c 00 00 00", "r0 = *(u8 *)skb[12]")]
    [InlineData("28 00 00 00 0c 00 00 00", "r0 = *(u16 *)skb[12]")]
    [InlineData("48 30 00 00 00 00 00 00", "r0 = *(u16 *)skb[r3 + 0]")]
    [InlineData("40 30 00 00 fe ff ff ff", "r0 = *(u32 *)skb[r3 + -2]")]
    // 64-bit immediate loads (two slots)
    [InlineData("18 01 00 00 88 77 66 55 00 00 00 00 44 33 22 11", "r1 = 0x1122334455667788")]
    [InlineData("18 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00", "r1 = 0x0")]
    [InlineData("18 01 00 00 ff ff ff ff 00 00 00 00 ff ff ff ff", "r1 = 0xffffffffffffffff")]
    [InlineData("18 11 00 00 05 00 00 00 00 00 00 00 00 00 00 00", "r1 = 0x5")]
    // invalid encodings print what disasm.c prints
    [InlineData("60 00 00 00 00 00 00 00", "BUG_ld_60")]
    [InlineData("22 00 00 00 00 00 00 00", "BUG_st_22")]
    [InlineData("21 00 00 00 00 00 00 00", "BUG_ldx_21")]
    [InlineData("23 00 00 00 00 00 00 00", "BUG_23")]
    [InlineData("db 21 00 00 02 00 00 00", "BUG_db")]
    [InlineData("e7 01 00 00 05 00 00 00", "r1 (null) 5")]
    [InlineData("c2 00 00 00 00 00 00 00", "nospec")]
    [InlineData("e5 00 03 00 00 00 00 00", "may_goto pc+3")]
    [InlineData("bf 21 01 00 02 00 01 00", "r1 = addr_space_cast(r2, 1, 2)")]
    public void Format_EachOpcode_MatchesKernelText(string hex, string expected)
    {
        Assert.Equal(expected, KernelFormatter.Format(Slots(hex), 0));
    }

    // With lossless set, the fields the kernel's text drops get a symbolic form; everything else is unchanged.
    [Theory]
    [InlineData("18 11 00 00 05 00 00 00 00 00 00 00 00 00 00 00", "r1 = map[fd:5]")]
    [InlineData("18 21 00 00 05 00 00 00 00 00 00 00 10 00 00 00", "r1 = map[fd:5][0]+16")]
    [InlineData("18 51 00 00 00 00 00 00 00 00 00 00 00 00 00 00", "r1 = map[idx:0]")]
    [InlineData("18 61 00 00 02 00 00 00 00 00 00 00 ff ff ff ff", "r1 = map[idx:2][0]+4294967295")]
    [InlineData("18 31 00 00 7b 00 00 00 00 00 00 00 04 00 00 00", "ld_pseudo r1, 3, 123, 4")]
    [InlineData("18 41 00 00 fe ff ff ff 00 00 00 00 00 00 00 00", "ld_pseudo r1, 4, -2, 0")]
    [InlineData("18 11 00 00 05 00 00 00 00 00 00 00 01 00 00 00", "ld_pseudo r1, 1, 5, 1")]
    [InlineData("85 20 02 00 4d 00 00 00", "call kernel-function#77 off=2")]
    [InlineData("85 20 00 00 4d 00 00 00", "call kernel-function#77")]
    [InlineData("18 01 00 00 88 77 66 55 00 00 00 00 44 33 22 11", "r1 = 0x1122334455667788")]
    [InlineData("61 12 04 00 00 00 00 00", "r2 = *(u32 *)(r1 +4)")]
    public void Format_Lossless_KeepsPseudoSourcesAndKfuncOffsets(string hex, string expected)
    {
        Assert.Equal(expected, KernelFormatter.Format(Slots(hex), 0, lossless: true));
    }

    [Fact]
    public void Format_LdImm64WithoutSecondSlot_ReadsUpperHalfAsZero()
    {
        Assert.Equal("r1 = 0x5", KernelFormatter.Format(Slots("18 01 00 00 05 00 00 00"), 0));
    }

    [Fact]
    public void FormatLine_PrefixesPcAndOpcode()
    {
        var slots = Slots("b4 00 00 00 00 00 00 00 18 01 00 00 00 82 f2 22 00 00 00 00 81 88 ff ff 85 00 00 00 01 00 00 00");
        Assert.Equal("0: (b4) w0 = 0", KernelFormatter.FormatLine(slots, 0));
        Assert.Equal("1: (18) r1 = 0xffff888122f28200", KernelFormatter.FormatLine(slots, 1));
        Assert.Equal("3: (85) call bpf_map_lookup_elem#1", KernelFormatter.FormatLine(slots, 3));
    }

    [Theory]
    [InlineData(0, "bpf_unspec")]
    [InlineData(1, "bpf_map_lookup_elem")]
    [InlineData(5, "bpf_ktime_get_ns")]
    [InlineData(12, "bpf_tail_call")]
    [InlineData(23, "bpf_redirect")]
    [InlineData(44, "bpf_xdp_adjust_head")]
    [InlineData(51, "bpf_redirect_map")]
    [InlineData(65, "bpf_xdp_adjust_tail")]
    [InlineData(130, "bpf_ringbuf_output")]
    [InlineData(189, "bpf_xdp_load_bytes")]
    [InlineData(211, "bpf_cgrp_storage_delete")]
    public void HelperNames_KnownIds_MatchUapiHeader(int id, string name)
    {
        Assert.Equal(name, HelperNames.Name(id));
        Assert.Equal(id, HelperNames.Id(name));
        Assert.Equal(id, HelperNames.Id(name["bpf_".Length..]));
    }

    [Fact]
    public void HelperNames_OutOfRangeOrUnknown_ReturnNull()
    {
        Assert.Equal(212, HelperNames.Count);
        Assert.Null(HelperNames.Name(212));
        Assert.Null(HelperNames.Name(-1));
        Assert.Null(HelperNames.Id("bpf_no_such_helper"));
        for (int id = 0; id < HelperNames.Count; id++)
        {
            Assert.StartsWith("bpf_", HelperNames.Name(id), StringComparison.Ordinal);
        }
    }

    [GeneratedRegex(@"^\s+(\d+): [0-9.]{10} \(([0-9a-f]{2})\) (.*)$")]
    private static partial Regex LiveRegsLine();

    [GeneratedRegex(@"^\s+(\d+):\t([0-9a-f ]+)\t")]
    private static partial Regex ObjdumpLine();

    [GeneratedRegex(@"^(\d+): \(([0-9a-f]{2})\) (.*?)\s*(?:;.*)?$")]
    private static partial Regex LogInsnLine();

    private static string[]? ReferenceLines(string file)
    {
        string? dir = TestPaths.ReferenceDir;
        return dir is null ? null : File.ReadAllLines(Path.Combine(dir, file));
    }

    // The "Live regs before insn" table of a real 6.18 log gives opcode and text per insn. Assembling the whole
    // table and printing it back must give the same lines. The two map loads print kernel addresses
    // (r1 = 0xffff888122f28200): they assemble as plain 64-bit constants, and print back identically.
    [SkippableFact]
    public void FormatLine_VerifierLogLiveRegsTable_ReproducesEveryLine()
    {
        var lines = ReferenceLines("sample_xdp.verifier-log2.txt");
        Skip.If(lines is null, "../shared/reference is absent: no sample log to compare against");

        var rows = lines.Select(l => LiveRegsLine().Match(l)).Where(m => m.Success).ToList();
        Assert.Equal(26, rows.Count);
        var slots = Assembler.Assemble(string.Join('\n', rows.Select(m => m.Value)));
        Assert.Equal(28, slots.Length);
        foreach (var m in rows)
        {
            int pc = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal($"{pc}: ({m.Groups[2].Value}) {m.Groups[3].Value}", KernelFormatter.FormatLine(slots, pc));
        }
    }

    // The same program's bytes from llvm-objdump-19 print as the verifier log's lines; the two map loads differ
    // (relocations are zero in the object, the kernel shows map addresses) and are left out.
    [SkippableFact]
    public void FormatLine_ObjdumpBytes_MatchVerifierLogLines()
    {
        var dump = ReferenceLines("sample_xdp.objdump");
        var log = ReferenceLines("sample_xdp.verifier-log2.txt");
        Skip.If(dump is null || log is null, "../shared/reference is absent: no sample to compare against");

        var bytes = new List<byte>();
        foreach (var m in dump.Select(l => ObjdumpLine().Match(l)).Where(m => m.Success))
        {
            bytes.AddRange(Convert.FromHexString(m.Groups[2].Value.Replace(" ", string.Empty, StringComparison.Ordinal)));
        }

        var slots = BpfProgram.DecodeSlots(bytes.ToArray());
        int compared = 0;
        foreach (var m in log.Select(l => LogInsnLine().Match(l)).Where(m => m.Success))
        {
            int pc = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            if (slots[pc].IsLdImm64)
            {
                continue;
            }

            Assert.Equal($"{pc}: ({m.Groups[2].Value}) {m.Groups[3].Value}", KernelFormatter.FormatLine(slots, pc));
            compared++;
        }

        Assert.Equal(24, compared);
    }
}
