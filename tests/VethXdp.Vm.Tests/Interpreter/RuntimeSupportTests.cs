using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Xdp;
using static VethXdp.Vm.Tests.Interpreter.Asm;

namespace VethXdp.Vm.Tests.Interpreter;

/// <summary>What the interpreter gives the runtime: function addresses, callbacks, kfuncs, tail calls, XDP buffers.</summary>
public class RuntimeSupportTests
{
    private static Instruction[] Func(Register dst, int rel) =>
    [
        new(Op.LdDw, dst, (Register)PseudoSrc.Func, 0, rel),
        new(0, 0, 0, 0, 0),
    ];

    [Fact]
    public void PseudoFunc_AddressOfTheSlotInPinnedCode()
    {
        // r0 = &func (slot 0 + 1 + imm 1 = slot 2); exit; func: exit
        var program = new ExecutableProgram(BpfProgram.Create(Prog(Func(R0, 1), Exit(), Exit())));
        using var vm = new BpfInterpreter(program, null, null, null);
        ulong r0 = vm.RunWithMemory([]).R0;
        Assert.Equal(program.FunctionAddress(2), r0);
        Assert.Equal(program.CodeBase + 16, r0);
        Assert.True(program.TryGetSlot(r0, out int pc));
        Assert.Equal(2, pc);
        Assert.False(program.TryGetSlot(r0 + 1, out _));
        Assert.False(vm.Env.Regions.IsAccessible(r0, 1, write: false));
    }

    [Fact]
    public void Callback_FromHelper_RunsInNewFrameAndReturnsR0()
    {
        // A helper (id 100) that calls the function in r1 with r1 = 20 and returns its r0 + 1.
        var table = new HelperTable();
        table.Register(100, "call_it", (r1, _, _, _, _, env) => env.Callbacks!.InvokeCallback(r1, 20, 0, 0, 0, 0) + 1);
        // main: r1 = &f; call 100; exit    f: r0 = r1 * 2; exit
        var prog = Prog(Func(R1, 3), new Instruction(Op.Call, 0, 0, 0, 100), Exit(), Mov64(R0, R1), I(Op.Mul64Imm, R0, imm: 2), Exit());
        Assert.Equal(41UL, Run(prog, helpers: table).R0);
    }

    [Fact]
    public void Callback_BadAddress_FaultsAtTheHelperCall()
    {
        var table = new HelperTable();
        table.Register(100, "call_it", (r1, _, _, _, _, env) => env.Callbacks!.InvokeCallback(12345, 0, 0, 0, 0, 0));
        var e = Fault([new Instruction(Op.Call, 0, 0, 0, 100), Exit()], helpers: table);
        Assert.Equal(0, e.Pc);
        Assert.Contains("0x3039 is not the address of a function", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Kfunc_Registered_Called()
    {
        var table = new HelperTable();
        table.RegisterKfunc(7, "bpf_test_kfunc", (r1, r2, _, _, _, _) => r1 + r2);
        var prog = Prog(Mov64(R1, 40), Mov64(R2, 2), new Instruction(Op.Call, 0, (Register)CallKind.Kfunc, 0, 7), Exit());
        Assert.Equal(42UL, Run(prog, helpers: table).R0);
        Assert.Equal("bpf_test_kfunc", table.GetKfuncName(7));
    }

    [Fact]
    public void TailCall_PendingTarget_ContinuesThereWithSameR1()
    {
        var target = new ExecutableProgram(BpfProgram.Create(Prog(Mov64(R0, R1), I(Op.Add64Imm, R0, imm: 1), Exit())), "target");
        var table = new HelperTable();
        table.Register(12, "bpf_tail_call", (_, _, _, _, _, env) =>
        {
            env.PendingTailCall = target;
            return 0;
        });
        // r1 = 99; call 12; r0 = 0; exit  -> the target returns r1 + 1
        Assert.Equal(100UL, Run(Prog(Mov64(R1, 99), new Instruction(Op.Call, 0, 0, 0, 12), Mov64(R0, 0), Exit()), helpers: table).R0);
    }

    [Fact]
    public void RunXdp_Buffer_ContextFollowsAdjustments()
    {
        using var vm = new BpfInterpreter(BpfProgram.Create(Prog(
            Mov64(R6, R1),
            Mov64(R2, -20),
            new Instruction(Op.Call, 0, 0, 0, (int)HelperId.XdpAdjustHead),
            I(Op.LdxW, R2, R6, XdpMd.Data),
            I(Op.LdxW, R0, R6, XdpMd.DataEnd),
            I(Op.Sub64Reg, R0, R2),
            Exit())));
        var buffer = new XdpBuffer();
        Assert.Equal(0, buffer.Load(new byte[100], 1, 0));
        Assert.Equal(120UL, vm.RunXdp(buffer).R0);
        Assert.Equal(120, buffer.Packet.Length);
        Assert.Equal(-1, vm.Env.PacketRegionIndex);
    }

    [Fact]
    public void RunXdp_BarePacket_AdjustHelpersFault()
    {
        using var vm = new BpfInterpreter(BpfProgram.Create(Prog(Mov64(R2, -20), new Instruction(Op.Call, 0, 0, 0, (int)HelperId.XdpAdjustHead), Exit())));
        var e = Assert.Throws<ExecutionFaultException>(() => vm.RunXdp(new byte[64]));
        Assert.Contains("is not the XDP context", e.Message, StringComparison.Ordinal);
    }
}
