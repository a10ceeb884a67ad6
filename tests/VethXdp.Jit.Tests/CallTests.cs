using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using static VethXdp.Jit.Tests.Asm;

namespace VethXdp.Jit.Tests;

/// <summary>Calls on the JIT: helpers (direct and through delegates), kfuncs, callx, BPF-to-BPF calls and their limit,
/// callbacks (bpf_loop, bpf_for_each_map_elem, an entry no call names), tail calls; faults raised inside helpers.</summary>
public class CallTests
{
    [Fact]
    public void LocalCall_CalleeSavedRegistersAndFreshStack_AsInterpreter()
    {
        // main: r6 = 6; fp-8 = 0x11; call f; r0 += r6; r0 += *(fp-8); exit
        // f:    r6 = 100; r0 = *(u64 *)(r10 -8) (a fresh, zeroed frame); *(fp-8) = 0x55; r0 += 1; exit
        var o = Engines.Same(Prog(
            Mov64(R6, 6), I(Op.StDw, R10, off: -8, imm: 0x11), CallLocal(4), I(Op.Add64Reg, R0, R6), I(Op.LdxDw, R1, R10, -8), I(Op.Add64Reg, R0, R1), Exit(),
            Mov64(R6, 100), I(Op.LdxDw, R0, R10, -8), I(Op.StDw, R10, off: -8, imm: 0x55), I(Op.Add64Imm, R0, imm: 1), Exit()));
        Assert.Equal(1UL + 6 + 0x11, o.R0);
    }

    [Fact]
    public void LocalCall_NinthFrame_FaultsAtTheCall()
    {
        // f calls itself: frames 0..7 are allowed, the eighth call faults.
        var a = Engines.Same(Prog(CallLocal(-1), Exit()));
        Assert.Equal(FaultKind.CallStackExceeded, a.Fault);
        Assert.Equal(0, a.FaultPc);
        Assert.Equal("insn 0: the call stack of 8 frames is exceeded", a.Message);
    }

    [Fact]
    public void LocalCall_FallsThroughIntoNextFunction_AsInterpreter()
    {
        // The callee at 3 has no exit of its own: it runs into the next function (5), whose exit returns to main.
        var o = Engines.Same(Prog(CallLocal(2), I(Op.Add64Imm, R0, imm: 1000), Exit(), Mov64(R0, 1), I(Op.Add64Imm, R0, imm: 2), I(Op.Add64Imm, R0, imm: 4), Exit()));
        Assert.Equal(1007UL, o.R0);
    }

    [Fact]
    public void Helper_NotStatic_CalledThroughItsDelegate()
    {
        var table = HelperTable.CreateDefault();
        ulong seen = 0;
        table.Register(200, "test_closure", (r1, r2, r3, r4, r5, env) => seen = r1 + r2 + r5);
        var o = Engines.Same(Prog(Mov64(R1, 1), Mov64(R2, 2), Mov64(R5, 40), Call(200), Exit()), helpers: table);
        Assert.Equal(43UL, o.R0);
        Assert.Equal(43UL, seen);
    }

    [Fact]
    public void Helper_ThrowsFaultWithoutPc_FaultGetsTheCallInstruction()
    {
        var table = HelperTable.CreateDefault();
        table.Register(201, "test_fault", (r1, r2, r3, r4, r5, env) => throw new ExecutionFaultException(FaultKind.HelperFailed, "bad argument"));
        table.Register(202, "test_throw", (r1, r2, r3, r4, r5, env) => throw new InvalidOperationException("boom"));
        var a = Engines.Same(Prog(Mov64(R0, 0), Call(201), Exit()), helpers: table);
        Assert.Equal("insn 1: bad argument", a.Message);
        var b = Engines.Same(Prog(Mov64(R0, 0), Mov64(R0, 0), Call(202), Exit()), helpers: table);
        Assert.Equal(FaultKind.HelperFailed, b.Fault);
        Assert.Equal("insn 2: helper test_throw failed: boom", b.Message);
    }

    [Fact]
    public void Helper_UnknownIdAndKfunc_FaultWhenReached()
    {
        var a = Engines.Same(Prog(Mov64(R0, 0), Call(9999), Exit()));
        Assert.Equal("insn 1: unknown helper id 9999", a.Message);
        var b = Engines.Same(Prog(new Instruction(Op.Call, 0, (Register)CallKind.Kfunc, 0, 77777), Exit()));
        Assert.Equal("insn 0: kfunc call with id 77777 is not supported", b.Message);

        // Not reached: no fault.
        Assert.Equal(3UL, Engines.Same(Prog(Mov64(R0, 3), Exit(), Call(9999), Exit())).R0);
    }

    [Fact]
    public void CallX_HelperIdInRegister_CallsIt()
    {
        // r8 = 8 (bpf_get_smp_processor_id); callx r8; r0 += 5
        var o = Engines.Same(Prog(Mov64(R8, 8), I(Op.CallX, R8), I(Op.Add64Imm, R0, imm: 5), Exit()));
        Assert.Equal(5UL, o.R0);
        var bad = Engines.Same(Prog(Mov64(R8, -1), I(Op.CallX, R8), Exit()));
        Assert.Equal("insn 1: unknown helper id -1", bad.Message);
    }

    [Fact]
    public void BpfLoop_CallbackCountsInstructions_AsInterpreter()
    {
        // fp-8 = 0; bpf_loop(10, cb, fp-8, 0); r0 = *(fp-8); exit | cb: *(ctx) += i; r0 = 0; exit
        var o = Engines.Same(Prog(
            I(Op.StDw, R10, off: -8, imm: 0), Mov64(R1, 10), LdFunc(R2, 7), Mov64(R3, R10), I(Op.Add64Imm, R3, imm: -8), Mov64(R4, 0), Call(181),
            I(Op.LdxDw, R0, R10, -8), Exit(),
            I(Op.LdxDw, R3, R2, 0), I(Op.Add64Reg, R3, R1), I(Op.StxDw, R2, R3, 0), Mov64(R0, 0), Exit()));
        Assert.Equal(45UL, o.R0);
        Assert.Equal(9 + (10 * 5), o.Instructions);
    }

    [Fact]
    public void BpfLoop_CallbackAtSlotNoCallNames_CompiledOnDemand()
    {
        // The function address points one instruction into the callback: no call or lddw names that slot.
        var o = Engines.Same(Prog(
            Mov64(R1, 3), LdFunc(R2, 6), I(Op.Add64Imm, R2, imm: 8), Mov64(R3, 0), Mov64(R4, 0), Call(181), Exit(),
            Mov64(R0, 1), Mov64(R0, 0), Exit()));
        Assert.Equal(3UL, o.R0);
    }

    [Fact]
    public void BpfLoop_CallbackAtSecondSlotOfLddw_FaultsAsInterpreter()
    {
        var o = Engines.Same(Prog(
            Mov64(R1, 3), LdFunc(R2, 6), I(Op.Add64Imm, R2, imm: 8), Mov64(R3, 0), Mov64(R4, 0), Call(181), Exit(),
            LdDw(R0, 5), Exit()));
        Assert.Equal(FaultKind.InvalidInstruction, o.Fault);
        Assert.Equal("insn 9: unknown opcode 0x00", o.Message);
    }

    [Fact]
    public void BpfLoop_CallbackFault_NamesCallbackInstruction()
    {
        var o = Engines.Same(Prog(
            Mov64(R1, 3), LdFunc(R2, 5), Mov64(R3, 0), Mov64(R4, 0), Call(181), Exit(),
            I(Op.LdxB, R0, R10, 8), Exit()));
        Assert.Equal(FaultKind.OutOfBounds, o.Fault);
        Assert.Equal(7, o.FaultPc);
        Assert.Contains("past the end of stack frame 1", o.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BpfLoop_Budget_NamesTheInstructionInsideTheCallback()
    {
        var prog = Prog(
            Mov64(R1, 1000), LdFunc(R2, 5), Mov64(R3, 0), Mov64(R4, 0), Call(181), Exit(),
            Mov64(R0, 0), I(Op.Add64Imm, R0, imm: 0), Exit());
        for (long budget = 1; budget < 40; budget++)
        {
            Engines.Same(prog, budget: budget);
        }
    }

    [Fact]
    public void ForEachMapElem_CallbackSeesEveryElement_SameMaps()
    {
        string asm = """
            r6 = r1
            r1 = map[idx:0]
            r2 = 0
            *(u32 *)(r10 -4) = r2
            r2 = r10
            r2 += -4
            r3 = r10
            r3 += -16
            *(u64 *)(r10 -16) = 5
            r4 = 0
            call bpf_map_update_elem
            r1 = map[idx:0]
            ld_pseudo r2, 4, 4
            r3 = 0
            r4 = 0
            call bpf_for_each_map_elem
            exit
            r0 = *(u64 *)(r3 +0)
            r0 += 1
            *(u64 *)(r3 +0) = r0
            r0 = 0
            exit
            """;
        var results = Xdp.Same([Xdp.Map("values", MapType.Array, 4, 8, 4)], [Xdp.Prog(asm)], Xdp.Frame(), Xdp.Frame());
        Assert.StartsWith("retval=4 ", results[0], StringComparison.Ordinal);
    }

    [Fact]
    public void TailCall_ChainAndSelfLimit_SameAsInterpreter()
    {
        string TailCall(int slot) => $"r1 = r6\nr2 = map[idx:0]\nr3 = {slot}\ncall bpf_tail_call\n";
        var chain = Xdp.Same(
            [Xdp.Progs((0, "b"), (1, "c"))],
            [Xdp.Prog("r6 = r1\n" + TailCall(0) + "r0 = 1\nexit", "a"), Xdp.Prog("r6 = r1\n" + TailCall(1) + "r0 = 1\nexit", "b"), Xdp.Prog("r2 = *(u32 *)(r1 +0)\nr0 = *(u32 *)(r1 +4)\nr0 -= r2\nexit", "c")],
            Xdp.Frame());
        Assert.StartsWith("retval=60 ", chain[0], StringComparison.Ordinal);

        var self = Xdp.Same(
            [Xdp.Progs((0, "self")), Xdp.Global(".bss", new byte[8])],
            [Xdp.Prog("""
                r6 = r1
                r1 = map[idx:1][0]+0
                r2 = 1
                lock *(u64 *)(r1 +0) += r2
                r1 = r6
                r2 = map[idx:0]
                r3 = 0
                call bpf_tail_call
                r1 = map[idx:1][0]+0
                r0 = *(u64 *)(r1 +0)
                exit
                """, "self")],
            Xdp.Frame(), Xdp.Frame());
        Assert.StartsWith("retval=34 ", self[0], StringComparison.Ordinal);
        Assert.StartsWith("retval=68 ", self[1], StringComparison.Ordinal);
    }

    [Fact]
    public void TailCall_FromSubprogram_ReturnsToTheCaller()
    {
        // main calls f; f tail-calls t, whose exit returns to main (the frame f had): r0 = t's 7 + 100.
        var r = Xdp.Same(
            [Xdp.Progs((0, "t"))],
            [Xdp.Prog("r6 = r1\ncall f\nr0 += 100\nexit\nf:\nr1 = r6\nr2 = map[idx:0]\nr3 = 0\ncall bpf_tail_call\nr0 = 1\nexit", "main"), Xdp.Prog("r0 = 7\nexit", "t")],
            Xdp.Frame());
        Assert.StartsWith("retval=107 ", r[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Timer_CallbackFiresBetweenPackets_OutsideARun()
    {
        // value = { struct bpf_timer t; u64 fired; }: init, set the callback, start it 1000 ns out, return fired.
        const string asm = """
            *(u32 *)(r10 -4) = 0
            r1 = map[idx:0]
            r2 = r10
            r2 += -4
            call bpf_map_lookup_elem
            if r0 == 0 goto out
            r6 = r0
            r1 = r6
            r2 = map[idx:0]
            r3 = 1
            call bpf_timer_init
            r1 = r6
            ld_pseudo r2, 4, 11
            r3 = 0
            call bpf_timer_set_callback
            r1 = r6
            r2 = 1000
            r3 = 0
            call bpf_timer_start
            r0 = *(u64 *)(r6 +16)
            exit
            out:
            r0 = 999
            exit
            r1 = *(u64 *)(r3 +16)
            r1 += 1
            *(u64 *)(r3 +16) = r1
            r0 = 0
            exit
            """;
        var r = Xdp.Same(new Vm.Runtime.RunOptions { TimeStepNs = 1000 }, [Xdp.Map("timers", MapType.Array, 4, 24, 1)], [Xdp.Prog(asm)], Xdp.Frame(), Xdp.Frame(), Xdp.Frame());
        Assert.StartsWith("retval=2 ", r[2], StringComparison.Ordinal);
    }
}
