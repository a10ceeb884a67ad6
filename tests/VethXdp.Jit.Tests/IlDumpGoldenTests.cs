using VethXdp.Vm.Isa;

namespace VethXdp.Jit.Tests;

/// <summary>The IL listing (<c>--dump-il</c>) of one program per opcode family, compared with a golden file.</summary>
/// <remarks>No external tool produces IL listings of this JIT, so the goldens were made by this code (their first
/// line says so) and pin its output: a change to an emitter shows up here as a diff to review. Regenerate with
/// <c>VETHXDP_UPDATE_GOLDENS=1 dotnet test tests/VethXdp.Jit.Tests --filter IlDumpGolden</c>.</remarks>
public class IlDumpGoldenTests
{
    private const string Header = "// golden made by VethXdp.Jit's own IL listing (JitCompiler.DumpIl): no external tool produces IL listings of our JIT; regenerate with VETHXDP_UPDATE_GOLDENS=1";

    public static TheoryData<string, string, JitMode> Families() => new()
    {
        { "alu64", "r0 = 7\nr1 = 3\nr0 += r1\nr0 -= 2\nr0 *= r1\nr0 /= 0\nr0 s%= -1\nr1 <<= 65\nr1 s>>= r0\nr0 = -r0\nr0 = (s16)r1\nr0 = bswap32 r0\nexit", JitMode.Checked },
        { "alu32", "w0 = 7\nw1 = -1\nw0 += w1\nw0 /= w1\nw0 s/= -1\nw0 %= 0\nw0 >>= 33\nw0 s>>= w1\nw0 = -w0\nw0 = (s8)w1\nr0 = be16 r0\nr0 = le32 r0\nexit", JitMode.Checked },
        { "jmp", "r0 = 0\nif r1 == 0 goto +2\nif r1 s> r2 goto +1\nif r1 & 0x10 goto +0\ngoto +0\nexit", JitMode.Checked },
        { "jmp32", "w0 = 0\nif w1 == 5 goto +2\nif w1 s< w2 goto +1\nif w1 & 0x10 goto +0\ngotol +0\nexit", JitMode.Checked },
        { "ldx", "r2 = *(u8 *)(r1 +0)\nr3 = *(u16 *)(r1 +2)\nr4 = *(u32 *)(r1 +4)\nr5 = *(u64 *)(r1 +8)\nr6 = *(s8 *)(r1 +0)\nr7 = *(s16 *)(r1 +2)\nr8 = *(s32 *)(r1 +4)\nr0 = *(u64 *)(r10 -8)\nexit", JitMode.Checked },
        { "ldx-unchecked", "r2 = *(u8 *)(r1 +0)\nr4 = *(u32 *)(r1 +4)\nr8 = *(s32 *)(r1 +4)\nr0 = *(u64 *)(r10 -8)\nexit", JitMode.Unchecked },
        { "st-stx", "*(u8 *)(r1 +0) = 1\n*(u16 *)(r1 +2) = r2\n*(u32 *)(r10 -4) = -1\n*(u64 *)(r10 -16) = r1\nr0 = 0\nexit", JitMode.Checked },
        { "st-stx-unchecked", "*(u8 *)(r1 +0) = 1\n*(u16 *)(r1 +2) = r2\n*(u64 *)(r10 -13) = r1\nr0 = 0\nexit", JitMode.Unchecked },
        { "atomic", "r2 = 1\nlock *(u64 *)(r1 +0) += r2\nr3 = atomic_fetch_or((u32 *)(r1 +0), r3)\nr0 = cmpxchg_64(r1 +0, r0, r2)\nexit", JitMode.Checked },
        { "ld-abs-ind", "r0 = *(u8 *)skb[3]\nr0 = *(u32 *)skb[r2 + 1]\nexit", JitMode.Checked },
        { "lddw", "r0 = 0x1122334455667788 ll\nexit", JitMode.Checked },
        { "call", "r6 = r1\ncall bpf_ktime_get_ns\ncall f\ncallx r0\nexit\nf:\nr0 = 1\nexit", JitMode.Checked },
    };

    [Theory]
    [MemberData(nameof(Families))]
    public void DumpIl_Family_MatchesGolden(string family, string asm, JitMode mode)
    {
        var program = BpfProgram.Create(Assembler.Assemble(asm), family.Replace('-', '_'));
        string listing = JitCompiler.DumpIl(program, mode).ReplaceLineEndings("\n");
        string path = Path.Combine(TestPaths.RepoRoot, "tests", "VethXdp.Jit.Tests", "Golden", family + ".il");
        if (Environment.GetEnvironmentVariable("VETHXDP_UPDATE_GOLDENS") == "1")
        {
            File.WriteAllText(path, Header + "\n" + listing);
        }

        Assert.True(File.Exists(path), $"{path} is missing (regenerate with VETHXDP_UPDATE_GOLDENS=1)");
        string golden = File.ReadAllText(path).ReplaceLineEndings("\n");
        Assert.StartsWith(Header + "\n", golden, StringComparison.Ordinal);
        Assert.Equal(golden[(Header.Length + 1)..], listing);
    }

    [Fact]
    public void DumpIl_EveryInstruction_AppearsInKernelSyntax()
    {
        var program = BpfProgram.Create(Assembler.Assemble("r0 = 1\nif r0 > 2 goto +1\nr0 += 3\nexit"));
        string listing = JitCompiler.DumpIl(program);
        Assert.Contains("// 0: (b7) r0 = 1", listing, StringComparison.Ordinal);
        Assert.Contains("// 1: (25) if r0 > 0x2 goto pc+1", listing, StringComparison.Ordinal);
        Assert.Contains("// 3: (95) exit", listing, StringComparison.Ordinal);
        Assert.Contains("bgt.un PC_3", listing, StringComparison.Ordinal);
    }

    [Fact]
    public void JitOptions_DumpIl_WritesTheListingWhenCompiling()
    {
        using var writer = new StringWriter();
        var code = JitCompiler.Compile(BpfProgram.Create(Assembler.Assemble("r0 = 1\nexit")), null, new JitOptions { DumpIl = writer });
        Assert.Equal(code.IlListing, writer.ToString());
        Assert.Contains("stloc r0", writer.ToString(), StringComparison.Ordinal);
        Assert.True(code.IlSize > 0);
    }
}
