using VethXdp.Verifier.Cfg;
using VethXdp.Verifier.Log;
using VethXdp.Vm.Isa;

namespace VethXdp.Verifier.Tests.Cfg;

/// <summary>The control-flow checks on hand-made programs. Every "linux:" message below was recorded from
/// BPF_PROG_LOAD on Linux 6.18.44 (socket filter, root, log level 2) for the same instructions.</summary>
public class CfgCheckTests
{
    private const string Processed0 =
        "processed 0 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n";

    private static Instruction[] Asm(string src) => Assembler.Assemble(src);

    private static Instruction Mov(int reg, int imm) => new(Op.Mov64Imm, (Register)reg, Register.R0, 0, imm);

    private static Instruction Exit => new(Op.Exit, Register.R0, Register.R0, 0, 0);

    private static Instruction CallLocal(int off) => new(Op.Call, Register.R0, (Register)CallKind.Local, 0, off);

    private static Instruction JeqImm(int off) => new(Op.JeqImm, Register.R0, Register.R0, (short)off, 0);

    private static (CfgResult Result, string Log) Run(Instruction[] slots, CfgOptions? options = null)
    {
        var log = new VerifierLog(VerifierLogLevel.Level2);
        var r = CfgCheck.Check(slots, options, log);
        if (!r.Ok)
        {
            log.WriteStats(new VerifierStats());
        }

        return (r, log.ToString());
    }

    [Fact]
    public void Check_JumpPastTheEnd_KernelMessage()
    {
        // linux: func#0 @0 / jump out of range from insn 1 to 7 (EINVAL)
        var (r, log) = Run([Mov(0, 0), JeqImm(5), Exit]);
        Assert.Equal(new VerifierError(1, RejectKind.Invalid, "jump out of range from insn 1 to 7"), r.Error);
        Assert.Equal("func#0 @0\njump out of range from insn 1 to 7\n" + Processed0, log);
        Assert.Equal("EINVAL", r.Error!.ErrnoName);
    }

    [Fact]
    public void Check_JumpBeforeTheStart_KernelMessage()
    {
        // linux: jump out of range from insn 1 to -3
        var (r, _) = Run([Mov(0, 0), JeqImm(-5), Exit]);
        Assert.Equal("jump out of range from insn 1 to -3", r.Error?.Message);
    }

    [Fact]
    public void Check_GotolOutOfRange_UsesImmOffset()
    {
        // JMP32 | JA (gotol) keeps its offset in imm (bpf_jmp_offset)
        var gotol = new Instruction(Op.Ja32, Register.R0, Register.R0, 0, 100);
        var (r, _) = Run([Mov(0, 0), gotol, Exit]);
        Assert.Equal("jump out of range from insn 1 to 102", r.Error?.Message);
    }

    [Theory]
    [InlineData("r0 = 0")]
    [InlineData("r0 = 0\nexit\nr0 = 1")]
    public void Check_LastInsnFallsOffTheEnd_KernelMessage(string src)
    {
        // linux: last insn is not an exit or jmp (EINVAL)
        var (r, log) = Run(Asm(src));
        Assert.Equal("last insn is not an exit or jmp", r.Error?.Message);
        Assert.Equal(RejectKind.Invalid, r.Error!.Kind);
        Assert.EndsWith("last insn is not an exit or jmp\n" + Processed0, log, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_CodeAfterExit_Unreachable()
    {
        // linux: func#0 @0 / unreachable insn 2
        var (r, log) = Run(Asm("r0 = 0\nexit\nr0 = 1\nexit"));
        Assert.Equal(new VerifierError(2, RejectKind.Invalid, "unreachable insn 2"), r.Error);
        Assert.Equal("func#0 @0\nunreachable insn 2\n" + Processed0, log);
    }

    [Fact]
    public void Check_BoundedLoopAsRoot_AcceptedAndBackEdgeRecorded()
    {
        // linux: loads (the loop is bounded by the state exploration: processed 22 insns)
        var (r, log) = Run(Asm("r0 = 0\nloop: r0 += 1\nif r0 < 0xa goto loop\nexit"));
        Assert.True(r.Ok, r.Error?.Message);
        Assert.Equal([new BackEdge(2, 1)], r.BackEdges);
        Assert.Equal("func#0 @0\n", log);
        Assert.True(r.PrunePoints[1] && r.PrunePoints[2] && r.JmpPoints[1]);
    }

    [Fact]
    public void Check_LoopWithoutCapBpf_BackEdgeRefused()
    {
        // push_insn without env->bpf_capable (from the 6.18 source; an unprivileged load cannot run here)
        var (r, _) = Run(Asm("r0 = 0\nloop: r0 += 1\nif r0 < 0xa goto loop\nexit"), new CfgOptions { BpfCapable = false });
        Assert.Equal(new VerifierError(2, RejectKind.Invalid, "back-edge from insn 2 to 1"), r.Error);
    }

    [Fact]
    public void Check_SelfLoopThenExit_ExitUnreachable()
    {
        // linux: unreachable insn 2 (goto -1 never falls through)
        var (r, _) = Run([Mov(0, 0), new Instruction(Op.Ja, Register.R0, Register.R0, -1, 0), Exit]);
        Assert.Equal("unreachable insn 2", r.Error?.Message);
        Assert.Equal([new BackEdge(1, 1)], r.BackEdges);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(-10)]
    public void Check_CallOutsideProgram_InvalidDestination(int off)
    {
        // linux: "call to invalid destination", printed before any func# line
        var (r, log) = Run([Mov(0, 0), CallLocal(off), Exit]);
        Assert.Equal(new VerifierError(1, RejectKind.Invalid, "call to invalid destination"), r.Error);
        Assert.Equal("call to invalid destination\n" + Processed0, log);
    }

    [Fact]
    public void Check_FunctionAddressOutsideProgram_InvalidDestination()
    {
        // linux: ld_imm64 src=4 (BPF_PSEUDO_FUNC) with imm 20: call to invalid destination
        var slots = new[]
        {
            new Instruction(Op.LdDw, Register.R2, (Register)PseudoSrc.Func, 0, 20), new Instruction(0, 0, 0, 0),
            Mov(0, 0), Exit,
        };
        var (r, _) = Run(slots);
        Assert.Equal("call to invalid destination", r.Error?.Message);
    }

    [Fact]
    public void Check_JumpIntoAnotherFunction_OutOfRange()
    {
        // linux: func#0 @0 / func#1 @4 / jump out of range from insn 2 to 4
        var (r, log) = Run(Asm("r0 = 0\ncall pc+2\nif r0 == 0x0 goto pc+1\nexit\nr0 = 1\nexit"));
        Assert.Equal("func#0 @0\nfunc#1 @4\njump out of range from insn 2 to 4\n" + Processed0, log);
        Assert.Equal(2, r.Error?.InsnIndex);
    }

    [Fact]
    public void Check_JumpFromFunctionBackIntoCaller_OutOfRange()
    {
        // linux: func#0 @0 / func#1 @3 / jump out of range from insn 3 to 2
        var (r, log) = Run(Asm("r0 = 0\ncall pc+1\nexit\nif r0 == 0x0 goto pc-2\nr0 = 1\nexit"));
        Assert.Equal("func#0 @0\nfunc#1 @3\njump out of range from insn 3 to 2\n" + Processed0, log);
        Assert.Equal(RejectKind.Invalid, r.Error?.Kind);
    }

    [Fact]
    public void Check_FunctionFallsIntoNext_LastInsnNotExit()
    {
        // linux: func#0 @0 / func#1 @3 / func#2 @5 / last insn is not an exit or jmp
        var (r, log) = Run([Mov(0, 0), CallLocal(1), Exit, Mov(0, 1), CallLocal(0), Mov(0, 2)]);
        Assert.Equal("func#0 @0\nfunc#1 @3\nfunc#2 @5\nlast insn is not an exit or jmp\n" + Processed0, log);
        Assert.Equal(3, r.Subprogs.Count);
    }

    [Fact]
    public void Check_JumpIntoLdImm64SecondHalf_KernelMessage()
    {
        // linux: jump into the middle of ldimm64 insn 2
        var slots = new[]
        {
            Mov(0, 0), JeqImm(1), new Instruction(Op.LdDw, Register.R1, Register.R0, 0, 1), new Instruction(0, 0, 0, 0), Exit,
        };
        var (r, log) = Run(slots);
        Assert.Equal(new VerifierError(2, RejectKind.Invalid, "jump into the middle of ldimm64 insn 2"), r.Error);
        Assert.Equal("func#0 @0\njump into the middle of ldimm64 insn 2\n" + Processed0, log);
    }

    [Fact]
    public void Check_EmptyProgram_E2bigWithoutLog()
    {
        // linux: BPF_PROG_LOAD with insn_cnt 0 fails with E2BIG and an empty log
        var log = new VerifierLog(VerifierLogLevel.Level1);
        var r = CfgCheck.Check([], log: log);
        Assert.Equal(new VerifierError(-1, RejectKind.TooComplex, string.Empty), r.Error);
        Assert.Equal("E2BIG", r.Error!.ErrnoName);
        Assert.Equal(string.Empty, log.ToString());
    }

    [Fact]
    public void Check_257Functions_TooManySubprograms()
    {
        // linux (log level 1): "too many subprograms", E2BIG
        const int calls = 256;
        var slots = new List<Instruction> { Mov(0, 0) };
        int bodyStart = 1 + calls + 1;
        for (int k = 0; k < calls; k++)
        {
            slots.Add(CallLocal(bodyStart + (2 * k) - slots.Count - 1));
        }

        slots.Add(Exit);
        for (int k = 0; k < calls; k++)
        {
            slots.Add(Mov(0, 0));
            slots.Add(Exit);
        }

        var log = new VerifierLog(VerifierLogLevel.Level1);
        var r = CfgCheck.Check(slots.ToArray(), log: log);
        log.WriteStats(new VerifierStats());
        Assert.Equal(RejectKind.TooComplex, r.Error?.Kind);
        Assert.Equal("too many subprograms\n" + Processed0, log.ToString());
    }

    [Fact]
    public void Check_CallsWithoutCapBpf_Eperm()
    {
        var (r, _) = Run(Asm("r0 = 0\ncall pc+1\nexit\nr0 = 1\nexit"), new CfgOptions { BpfCapable = false });
        Assert.Equal(RejectKind.Permission, r.Error?.Kind);
        Assert.Equal("EPERM", r.Error?.ErrnoName);
        Assert.Equal("loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN", r.Error?.Message);
    }

    [Fact]
    public void Check_FunctionsAndFlags_Discovered()
    {
        // a callback passed by address (ld_imm64 src=4) and a BPF-to-BPF call both start functions
        string src = """
            r1 = 4
            r2 = 0 ll
            r3 = 0
            r4 = 0
            call bpf_loop
            call pc+3
            r0 = *(u8 *)skb[12]
            r0 = 0
            exit
            r0 = 0
            exit
            r0 = 0
            exit
            """;
        var slots = Asm(src);
        // point the ld_imm64 at the last function (slot 12) as a BPF_PSEUDO_FUNC
        slots[1] = new Instruction(Op.LdDw, Register.R2, (Register)PseudoSrc.Func, 0, 12 - 1 - 1);
        var (r, log) = Run(slots);
        Assert.True(r.Ok, r.Error?.Message);
        Assert.Equal([0, 10, 12], r.Subprogs.Select(s => s.Start));
        Assert.Equal([10, 12, 14], r.Subprogs.Select(s => s.End));
        Assert.Equal("func#0 @0\nfunc#1 @10\nfunc#2 @12\n", log);
        Assert.True(r.Subprogs[0].HasLdAbs);
        Assert.Equal(9, r.Subprogs[0].ExitIdx);
        Assert.True(r.CallsCallback[5] && r.ForceCheckpoints[5] && r.PrunePoints[5] && r.JmpPoints[5]);
        Assert.True(r.PrunePoints[7] && r.JmpPoints[7] && r.PrunePoints[6]); // the BPF-to-BPF call and its return point
    }

    [Fact]
    public void Check_TailCall_MarksFunction()
    {
        var (r, _) = Run(Asm("r0 = 0\ncall pc+1\nexit\ncall bpf_tail_call\nr0 = 0\nexit"));
        Assert.True(r.Ok);
        Assert.False(r.Subprogs[0].HasTailCall);
        Assert.True(r.Subprogs[1].HasTailCall);
    }

    [Fact]
    public void CheckMaxStackDepth_TwoFramesOver512_KernelMessage()
    {
        // linux: main writes fp-512, its callee fp-16: combined stack size of 2 calls is 528. Too large (EACCES)
        var slots = Asm("*(u64 *)(r10 -512) = 0\ncall pc+2\nr0 = 0\nexit\n*(u64 *)(r10 -16) = 0\nr0 = 0\nexit");
        var r = CfgCheck.Check(slots);
        Assert.True(r.Ok);
        var err = CfgCheck.CheckMaxStackDepth(slots, r.Subprogs, [512, 16]);
        Assert.Equal(new VerifierError(-1, RejectKind.Access, "combined stack size of 2 calls is 528. Too large"), err);
        Assert.Null(CfgCheck.CheckMaxStackDepth(slots, r.Subprogs, [496, 16]));
    }

    [Fact]
    public void CheckMaxStackDepth_ThreeFramesRounded_KernelMessage()
    {
        // linux: 256 + 200 (rounded to 208 under the JIT) + 64: combined stack size of 3 calls is 528. Too large
        var slots = Asm("""
            *(u64 *)(r10 -256) = 0
            call pc+2
            r0 = 0
            exit
            *(u64 *)(r10 -200) = 0
            call pc+2
            r0 = 0
            exit
            *(u64 *)(r10 -64) = 0
            r0 = 0
            exit
            """);
        var r = CfgCheck.Check(slots);
        Assert.Equal("combined stack size of 3 calls is 528. Too large", CfgCheck.CheckMaxStackDepth(slots, r.Subprogs, [256, 200, 64])?.Message);
        // the interpreter's 32-byte frames: 256 + 224 + 64 = 544
        Assert.Equal("combined stack size of 3 calls is 544. Too large",
            CfgCheck.CheckMaxStackDepth(slots, r.Subprogs, [256, 200, 64], new CfgOptions { JitRequested = false })?.Message);
    }

    [Fact]
    public void CheckMaxStackDepth_NineNestedFrames_TooDeep()
    {
        // main -> f1 -> ... -> f8: the static walk refuses the 8th nested frame (the exploration refuses the 9th
        // frame first on Linux: "the call stack of 9 frames is too deep")
        var slots = new List<Instruction> { Mov(0, 0), CallLocal(1), Exit };
        for (int i = 0; i < 8; i++)
        {
            slots.Add(i == 7 ? Mov(0, 0) : CallLocal(1));
            slots.Add(Exit);
        }

        var r = CfgCheck.Check(slots.ToArray());
        Assert.True(r.Ok, r.Error?.Message);
        Assert.Equal(9, r.Subprogs.Count);
        var err = CfgCheck.CheckMaxStackDepth(slots.ToArray(), r.Subprogs, new int[9]);
        Assert.Equal(new VerifierError(-1, RejectKind.TooComplex, "the call stack of 8 frames is too deep !"), err);
    }

    [Fact]
    public void CheckMaxStackDepth_TailCallUnder256BytesOfCallers_Refused()
    {
        var slots = Asm("call pc+2\nr0 = 0\nexit\nr0 = 0\ncall bpf_tail_call\nr0 = 0\nexit");
        var r = CfgCheck.Check(slots);
        Assert.True(r.Ok);
        Assert.Equal("tail_calls are not allowed when call stack of previous frames is 256 bytes. Too large",
            CfgCheck.CheckMaxStackDepth(slots, r.Subprogs, [256, 0])?.Message);
        Assert.Null(CfgCheck.CheckMaxStackDepth(slots, r.Subprogs, [240, 0]));
    }

    [Theory]
    [InlineData(0, true, 0)]
    [InlineData(1, true, 16)]
    [InlineData(200, true, 208)]
    [InlineData(0, false, 32)]
    [InlineData(33, false, 64)]
    public void RoundUpStackDepth_JitOrInterpreter_KernelGranularity(int depth, bool jit, int expected) =>
        Assert.Equal(expected, CfgCheck.RoundUpStackDepth(depth, new CfgOptions { JitRequested = jit }));

    [Fact]
    public void Check_SpecAndProgram_SameAsSlots()
    {
        var slots = Asm("r0 = 0\ncall pc+1\nexit\nr0 = 1\nexit");
        var program = BpfProgram.Create(slots);
        var spec = new Vm.Programs.ProgramSpec
        {
            Name = "f",
            SectionName = "xdp",
            Type = Vm.Programs.ProgramType.Xdp,
            Slots = slots,
            Functions = [new Vm.Programs.FunctionInfo(0, "f", true), new Vm.Programs.FunctionInfo(3, "helper", false)],
        };
        var a = CfgCheck.Check(program);
        var b = CfgCheck.Check(spec);
        Assert.True(a.Ok && b.Ok);
        Assert.Equal(a.Subprogs.Select(s => s.Start), b.Subprogs.Select(s => s.Start));
        Assert.Equal("helper", b.Subprogs[1].Name);
        Assert.True(b.Subprogs[0].IsGlobal);
        Assert.False(b.Subprogs[1].IsGlobal);
    }
}
