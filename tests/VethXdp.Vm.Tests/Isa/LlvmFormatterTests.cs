using System.Globalization;
using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using VethXdp.Vm.Isa;

namespace VethXdp.Vm.Tests.Isa;

/// <summary>Instruction text against what llvm-objdump-19 printed. The expected strings are never written by us:
/// they are read from the goldens corpus/xdp/all_opcodes.objdump (every ISA form, assembled from all_opcodes.s)
/// and corpus/xdp/odd_encodings.objdump (decoder edge cases, from raw bytes), or copied from those files.</summary>
public partial class LlvmFormatterTests
{
    private static readonly string[] s_goldens = ["all_opcodes.objdump", "odd_encodings.objdump"];

    private static Instruction[] Slots(string hex) =>
        BpfProgram.DecodeSlots(Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal)));

    /// <summary>Every instruction line of the two goldens: (golden, line number, bytes, text without label).</summary>
    public static TheoryData<string, int, string, string> GoldenInstructionLines()
    {
        var data = new TheoryData<string, int, string, string>();
        foreach (var (golden, line, _, bytes, text, _) in ReadGoldenLines())
        {
            data.Add(golden, line, bytes, text);
        }

        return data;
    }

    private static IEnumerable<(string Golden, int Line, int Pc, string Bytes, string Text, string? Label)> ReadGoldenLines()
    {
        foreach (var golden in s_goldens)
        {
            var lines = File.ReadAllLines(Path.Combine(TestPaths.CorpusDir, "xdp", golden));
            for (int i = 0; i < lines.Length; i++)
            {
                var m = InstructionLine().Match(lines[i]);
                if (!m.Success)
                {
                    continue;
                }

                // Only whole slots (8 bytes, or 16 for a 64-bit load); single bytes come from a cut-off load.
                var bytes = m.Groups["bytes"].Value;
                if (bytes.Length != 23 && bytes.Length != 47)
                {
                    continue;
                }

                var label = m.Groups["label"].Success ? m.Groups["label"].Value : null;
                int pc = int.Parse(m.Groups["pc"].Value, CultureInfo.InvariantCulture);
                yield return (golden, i + 1, pc, bytes, m.Groups["text"].Value, label);
            }
        }
    }

    [Theory]
    [MemberData(nameof(GoldenInstructionLines))]
    public void Format_GoldenLine_MatchesLlvmText(string golden, int line, string bytes, string expected)
    {
        var slots = Slots(bytes);

        var text = LlvmFormatter.Format(slots, 0);

        Assert.True(expected == text, $"{golden}:{line}: {bytes}\n  llvm-objdump: {expected}\n  ours:         {text}");
    }

    [Fact]
    public void AllOpcodesGolden_CoversEveryValidOpcode()
    {
        var seen = ReadGoldenLines()
            .Where(l => l.Golden == "all_opcodes.objdump")
            .Select(l => byte.Parse(l.Bytes.AsSpan(0, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture))
            .ToHashSet();

        var missing = Enumerable.Range(0, 256)
            .Where(op => OpcodeTable.Get((byte)op).IsValid && !seen.Contains((byte)op))
            .Select(op => $"0x{op:x2}")
            .ToList();

        Assert.True(missing.Count == 0, "all_opcodes.s lacks opcodes: " + string.Join(", ", missing));
    }

    [Fact]
    public void Format_GoldenBranches_PassTargetSlotToLabelCallback()
    {
        // In all_opcodes.o every jump before the final subprogram is labelled <all_opcodes+0xOFFSET>.
        int checkedBranches = 0;
        foreach (var (golden, _, pc, bytes, _, label) in ReadGoldenLines())
        {
            if (golden != "all_opcodes.objdump" || label is null || !label.StartsWith("<all_opcodes+0x", StringComparison.Ordinal))
            {
                continue;
            }

            var slots = Slots(bytes);
            int? target = null;

            var text = LlvmFormatter.Format(slots, 0, t => { target = t + pc; return $"<all_opcodes+0x{(t + pc) * 8:x}>"; });

            Assert.EndsWith(" " + label, text, StringComparison.Ordinal);
            Assert.NotNull(target);
            checkedBranches++;
        }

        Assert.True(checkedBranches > 40, $"only {checkedBranches} labelled branches found");
    }

    // Lines copied from the goldens (sample_xdp.objdump, all_opcodes.objdump, odd_encodings.objdump).
    [Theory]
    [InlineData("b4 00 00 00 00 00 00 00", "w0 = 0x0")]
    [InlineData("61 12 04 00 00 00 00 00", "r2 = *(u32 *)(r1 + 0x4)")]
    [InlineData("62 0a fc ff 00 00 00 00", "*(u32 *)(r10 - 0x4) = 0x0")]
    [InlineData("07 02 00 00 fc ff ff ff", "r2 += -0x4")]
    [InlineData("18 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00", "r1 = 0x0 ll")]
    [InlineData("85 00 00 00 01 00 00 00", "call 0x1")]
    [InlineData("95 00 00 00 00 00 00 00", "exit")]
    [InlineData("bf 54 08 00 00 00 00 00", "r4 = (s8)r5")]
    [InlineData("3f 32 01 00 00 00 00 00", "r2 s/= r3")]
    [InlineData("87 02 00 00 00 00 00 00", "r2 = -r2")]
    [InlineData("91 21 ff ff 00 00 00 00", "r1 = *(s8 *)(r2 - 0x1)")]
    [InlineData("db 21 00 00 00 00 00 00", "lock *(u64 *)(r1 + 0x0) += r2")]
    [InlineData("db 21 00 00 01 00 00 00", "r2 = atomic_fetch_add((u64 *)(r1 + 0x0), r2)")]
    [InlineData("db 21 00 00 e1 00 00 00", "r2 = xchg_64(r1 + 0x0, r2)")]
    [InlineData("db 21 00 00 f1 00 00 00", "r0 = cmpxchg_64(r1 + 0x0, r0, r2)")]
    [InlineData("c3 21 00 00 01 00 00 00", "lock *(u32 *)(r1 + 0x0) += r2")]
    [InlineData("c3 21 00 00 e1 00 00 00", "<unknown>")]
    [InlineData("06 00 00 00 fd ff ff ff", "gotol -0x3")]
    [InlineData("8d 02 00 00 00 00 00 00", "callx r2")]
    [InlineData("85 10 00 00 ff ff ff ff", "call -0x1")]
    [InlineData("30 00 00 00 0c 00 00 00", "r0 = *(u8 *)skb[0xc]")]
    [InlineData("48 80 00 00 00 00 00 00", "r0 = *(u16 *)skb[r8]")]
    [InlineData("18 11 00 00 03 00 00 00 00 00 00 00 00 00 00 00", "ld_pseudo\tr1, 0x1, 0x3")]
    [InlineData("bf 21 01 00 00 80 ff 7f", "r1 = addr_space_cast(r2, 0x7fff, 0x8000)")]
    [InlineData("e5 00 00 00 00 00 00 00", "may_goto +0x0")]
    [InlineData("bf bb 00 00 00 00 00 00", "r11 = r11")]
    [InlineData("bf 0c 00 00 00 00 00 00", "<unknown>")]
    [InlineData("95 ff 34 12 00 00 00 00", "exit")]
    [InlineData("18 01 01 00 01 00 00 00", "<unknown>")]
    public void Format_KnownEncoding_PrintsLlvmText(string hex, string expected)
    {
        Assert.Equal(expected, LlvmFormatter.Format(Slots(hex), 0));
    }

    [Fact]
    public void Format_SampleBranch_AppendsCallerLabel()
    {
        // sample_xdp.objdump, slot 5: "if r1 > r2 goto +0x15 <xdp_prog+0xd8>".
        var slots = new Instruction[6];
        slots[5] = Slots("2d 21 15 00 00 00 00 00")[0];

        var text = LlvmFormatter.Format(slots, 5, target => $"<xdp_prog+0x{target * 8:x}>");

        Assert.Equal("if r1 > r2 goto +0x15 <xdp_prog+0xd8>", text);
    }

    [Fact]
    public void Format_CallWithLabelCallback_NeverAsksForLabel()
    {
        bool asked = false;

        var text = LlvmFormatter.Format(Slots("85 10 00 00 04 00 00 00"), 0, _ => { asked = true; return "<x>"; });

        Assert.Equal("call 0x4", text);
        Assert.False(asked);
    }

    [Fact]
    public void Format_LoadImm64WithoutSecondSlot_IsUnknown()
    {
        Assert.Equal(LlvmFormatter.UnknownText, LlvmFormatter.Format(Slots("18 01 00 00 05 00 00 00"), 0));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1)]
    public void Format_PcOutsideSlots_Throws(int pc)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LlvmFormatter.Format(Slots("95 00 00 00 00 00 00 00"), pc));
    }

    [Property(MaxTest = 2000)]
    public Property Format_AnySlots_ReturnsTextWithoutThrowing() =>
        Prop.ForAll(
            Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf(16).ToArbitrary(),
            bytes =>
            {
                var text = LlvmFormatter.Format(BpfProgram.DecodeSlots(bytes), 0, t => $"<f+0x{t:x}>");
                return text.Length > 0 && !text.Contains('\n', StringComparison.Ordinal);
            });

    // "      12:\t15 00 03 00 00 00 00 00\tif r0 == 0x0 goto +0x3 <xdp_prog+0x80>"
    [GeneratedRegex(@"^ *(?<pc>\d+):\t(?<bytes>[0-9a-f]{2}(?: [0-9a-f]{2})*)\t(?<text>.*?)(?: (?<label><[^ <>]+>))?$")]
    private static partial Regex InstructionLine();
}
