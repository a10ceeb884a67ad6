using System.Globalization;
using System.Text;
using VethXdp.Kernel;
using VethXdp.Verifier.Context;
using VethXdp.Verifier.Fixups;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Tests.Fixups;

/// <summary>Our context rewrite of small XDP, socket-filter and tc programs against the kernel's translated
/// instructions: live where bpf() is permitted, and always against ctx-xlated.golden, recorded from the kernel named
/// in its first line (regenerate with VETHXDP_REGEN_CTX_GOLDEN=1 on that kernel).</summary>
public class CtxRewriteGoldenTests
{
    private const string RegenVariable = "VETHXDP_REGEN_CTX_GOLDEN";

    private static readonly (string Name, ProgramType Type, uint Attach, string Asm)[] s_programs =
    [
        ("xdp_fields", ProgramType.Xdp, (uint)AttachType.Xdp, """
            r2 = *(u32 *)(r1 +0)
            r3 = *(u32 *)(r1 +4)
            r4 = r2
            r4 += 14
            if r4 > r3 goto pc+4
            r5 = *(u32 *)(r1 +12)
            r6 = *(u32 *)(r1 +16)
            r0 = *(u32 *)(r1 +8)
            goto pc+1
            r0 = 1
            r0 = 2
            exit
            """),
        ("xdp_devmap_egress", ProgramType.Xdp, (uint)AttachType.XdpDevmap, """
            r2 = *(u32 *)(r1 +20)
            r3 = *(s32 *)(r1 +12)
            r0 = 2
            exit
            """),
        ("xdp_jump_onto_access", ProgramType.Xdp, (uint)AttachType.Xdp, """
            r2 = *(u32 *)(r1 +0)
            r3 = *(u32 *)(r1 +4)
            r4 = r2
            r4 += 1
            r0 = 1
            if r4 > r3 goto pc+1
            r0 = *(u32 *)(r1 +12)
            r5 = *(u32 *)(r1 +12)
            if r4 > r3 goto pc+2
            r6 = *(u32 *)(r1 +16)
            r6 = *(u32 *)(r1 +16)
            exit
            """),
        ("socket_fields", ProgramType.SocketFilter, 0, """
            r2 = *(u32 *)(r1 +0)
            r3 = *(u32 *)(r1 +4)
            if r2 > r3 goto pc+9
            r3 = *(u32 *)(r1 +8)
            r3 = *(u32 *)(r1 +12)
            r3 = *(u32 *)(r1 +16)
            r3 = *(u32 *)(r1 +20)
            r3 = *(u16 *)(r1 +24)
            r3 = *(u32 *)(r1 +28)
            r3 = *(u32 *)(r1 +32)
            r3 = *(u32 *)(r1 +36)
            r3 = *(u32 *)(r1 +40)
            r3 = *(u32 *)(r1 +44)
            if r2 > r3 goto pc+2
            r3 = *(u8 *)(r1 +49)
            *(u32 *)(r1 +52) = r2
            *(u64 *)(r1 +56) = r2
            r3 = *(u32 *)(r1 +68)
            r3 = *(u8 *)(r1 +85)
            r3 = *(u32 *)(r1 +164)
            r3 = *(u16 *)(r1 +176)
            r3 = *(u64 *)(r1 +168)
            r0 = *(u8 *)(r1 +3)
            exit
            """),
        ("tc_fields", ProgramType.SchedCls, 0, """
            r2 = *(u32 *)(r1 +0)
            r3 = *(u32 *)(r1 +40)
            r3 = *(u32 *)(r1 +72)
            r3 = *(u32 *)(r1 +76)
            r3 = *(u32 *)(r1 +80)
            r3 = *(u32 *)(r1 +140)
            r3 = *(u64 *)(r1 +152)
            r3 = *(u32 *)(r1 +160)
            r3 = *(u64 *)(r1 +184)
            r3 = *(u32 *)(r1 +84)
            r3 = *(u16 *)(r1 +74)
            *(u32 *)(r1 +8) = r2
            *(u32 *)(r1 +12) = r2
            *(u32 *)(r1 +12) = 3
            *(u32 *)(r1 +12) = 65535
            *(u32 *)(r1 +32) = r2
            *(u32 *)(r1 +44) = r2
            *(u32 *)(r1 +72) = r2
            *(u8 *)(r1 +50) = r2
            *(u64 *)(r1 +152) = r2
            *(u64 *)(r1 +152) = 7
            r0 = 0
            exit
            """),
        ("tc_tstamp_type", ProgramType.SchedCls, 0, """
            r2 = *(u8 *)(r1 +180)
            r3 = *(u64 *)(r1 +152)
            *(u64 *)(r1 +152) = r3
            r0 = *(s8 *)(r1 +180)
            exit
            """),
        ("tc_narrow", ProgramType.SchedCls, 0, """
            r2 = *(u8 *)(r1 +0)
            r2 = *(u8 *)(r1 +1)
            r2 = *(u16 *)(r1 +2)
            r2 = *(u16 *)(r1 +18)
            r2 = *(u8 *)(r1 +17)
            r2 = *(u8 *)(r1 +5)
            r2 = *(u16 *)(r1 +22)
            r2 = *(u8 *)(r1 +41)
            r3 = *(u16 *)(r1 +166)
            r3 = *(s8 *)(r1 +1)
            r3 = *(s16 *)(r1 +16)
            r3 = *(s32 *)(r1 +0)
            r0 = 0
            exit
            """),
        ("tc_direct_write", ProgramType.SchedCls, 0, """
            r2 = *(u32 *)(r1 +76)
            r3 = *(u32 *)(r1 +80)
            r4 = r2
            r4 += 1
            if r4 > r3 goto pc+2
            r5 = 1
            *(u8 *)(r2 +0) = r5
            r0 = *(u32 *)(r1 +84)
            exit
            """),
        ("tc_direct_write_plain_first", ProgramType.SchedAct, 0, """
            r9 = 0
            r2 = *(u32 *)(r1 +76)
            r3 = *(u32 *)(r1 +80)
            r4 = r2
            r4 += 1
            if r4 > r3 goto pc+1
            *(u8 *)(r2 +0) = r9
            r0 = 0
            exit
            """),
    ];

    public static TheoryData<string> Names
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var p in s_programs)
            {
                data.Add(p.Name);
            }

            return data;
        }
    }

    private static string GoldenPath => Path.Combine(TestPaths.RepoRoot, "tests", "VethXdp.Verifier.Tests", "Fixups", "ctx-xlated.golden");

    [Theory]
    [MemberData(nameof(Names))]
    public void Rewrite_SmallProgram_EqualsGolden(string name)
    {
        var (kernel, programs) = ReadGolden();
        Assert.StartsWith("# Linux ", kernel, StringComparison.Ordinal);
        Assert.True(programs.TryGetValue(name, out Instruction[]? golden), $"{name} is not in {GoldenPath}");
        AssertSame(golden!, Rewrite(name));
    }

    [SkippableTheory]
    [MemberData(nameof(Names))]
    public void Rewrite_SmallProgram_EqualsKernelXlated(string name)
    {
        Skip.IfNot(KernelProbe.IsBpfPermitted(out string reason), reason);
        var (kernelLine, _) = ReadGolden();
        string running = $"# Linux {KernelInfo.Release}";
        Skip.IfNot(kernelLine.StartsWith(running + " ", StringComparison.Ordinal),
            $"the struct layouts are those of the golden's kernel ({kernelLine}); this is {KernelInfo.Release}");
        var p = Array.Find(s_programs, x => x.Name == name);
        var xlated = KernelXlated.LoadAndGet(new ProgLoadRequest
        {
            Type = p.Type,
            Instructions = Assembler.Assemble(p.Asm),
            ExpectedAttachType = p.Attach,
            LogLevel = 1,
            Name = "ctx_golden",
        });
        AssertSame(xlated, Rewrite(name));
    }

    [SkippableFact]
    public void Golden_Regenerate_WhenAsked()
    {
        Skip.If(Environment.GetEnvironmentVariable(RegenVariable) != "1", $"set {RegenVariable}=1 to record the golden file from the running kernel");
        Skip.IfNot(KernelProbe.IsBpfPermitted(out string reason), reason);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"# Linux {KernelInfo.Release} {System.Runtime.InteropServices.RuntimeInformation.OSArchitecture}: ")
            .Append("xlated_prog_insns (BPF_OBJ_GET_INFO_BY_FD) of the programs in CtxRewriteGoldenTests; raw slot, then the kernel syntax\n");
        foreach (var p in s_programs)
        {
            var xlated = KernelXlated.LoadAndGet(new ProgLoadRequest
            {
                Type = p.Type,
                Instructions = Assembler.Assemble(p.Asm),
                ExpectedAttachType = p.Attach,
                LogLevel = 1,
                Name = "ctx_golden",
            });
            sb.Append("== ").Append(p.Name).Append('\n');
            for (int i = 0; i < xlated.Length; i++)
            {
                sb.Append(CultureInfo.InvariantCulture, $"{xlated[i].ToRaw():x16}  {KernelFormatter.Format(xlated, i)}\n");
            }
        }

        File.WriteAllText(GoldenPath, sb.ToString());
        Assert.True(File.Exists(GoldenPath));
    }

    /// <summary>Our rewrite, with the context accesses marked as the verifier would mark them: every load through r1
    /// and every store into r1 (these programs never move the context pointer).</summary>
    private static Instruction[] Rewrite(string name)
    {
        var p = Array.Find(s_programs, x => x.Name == name);
        var slots = Assembler.Assemble(p.Asm);
        var model = ContextModel.For(p.Type, p.Attach);
        var marks = new CtxAccessMark[slots.Length];
        bool directWrite = false;
        for (int i = 0; i < slots.Length; i++)
        {
            var insn = slots[i];
            bool load = insn.Class == OpClass.Ldx && insn.SrcReg == 1;
            bool store = insn.Class is OpClass.St or OpClass.Stx && insn.Mode == MemMode.Mem;
            if (store && insn.DstReg != 1)
            {
                directWrite = true;   // a packet store (these programs store only into ctx or packet)
                continue;
            }

            if (!load && !store)
            {
                continue;
            }

            var type = load ? CtxAccessType.Read : CtxAccessType.Write;
            Assert.True(model.IsValidAccess(insn.Offset, insn.AccessBytes, type, insn.Mode == MemMode.MemSx, out var info), $"{name}: insn {i}");
            marks[i] = CtxAccessMark.From(info);
        }

        var result = CtxAccessRewriter.Rewrite(model, slots, marks, directWrite);
        Assert.True(result.Succeeded);
        return result.Slots;
    }

    // Helper calls: the kernel's imm is the helper's distance from __bpf_call_base (do_misc_fixups, after us); ours
    // is still the helper id.
    private static void AssertSame(Instruction[] expected, Instruction[] actual)
    {
        var e = new StringBuilder();
        var a = new StringBuilder();
        for (int i = 0; i < expected.Length; i++)
        {
            e.Append(CultureInfo.InvariantCulture, $"{i}: {Normalize(expected[i])}\n");
        }

        for (int i = 0; i < actual.Length; i++)
        {
            a.Append(CultureInfo.InvariantCulture, $"{i}: {Normalize(actual[i])}\n");
        }

        Assert.Equal(e.ToString(), a.ToString());
    }

    private static string Normalize(Instruction insn)
    {
        if (insn.Opcode == Op.Call && insn.SrcReg == 0)
        {
            insn = new Instruction(insn.Opcode, insn.Regs, insn.Offset, 0);
        }

        return $"{insn.ToRaw():x16} {KernelFormatter.Format([insn], 0)}";
    }

    private static (string Kernel, Dictionary<string, Instruction[]> Programs) ReadGolden()
    {
        string[] lines = File.ReadAllLines(GoldenPath);
        var programs = new Dictionary<string, Instruction[]>(StringComparer.Ordinal);
        string? current = null;
        var slots = new List<Instruction>();
        foreach (string line in lines.AsSpan(1))
        {
            if (line.StartsWith("== ", StringComparison.Ordinal))
            {
                if (current is not null)
                {
                    programs[current] = [.. slots];
                }

                current = line[3..].Trim();
                slots.Clear();
            }
            else if (line.Length >= 16)
            {
                slots.Add(Instruction.FromRaw(ulong.Parse(line.AsSpan(0, 16), NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
            }
        }

        if (current is not null)
        {
            programs[current] = [.. slots];
        }

        return (lines[0], programs);
    }
}
