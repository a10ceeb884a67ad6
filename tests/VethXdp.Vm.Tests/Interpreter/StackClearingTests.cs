using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Xdp;
using static VethXdp.Vm.Tests.Interpreter.Asm;

namespace VethXdp.Vm.Tests.Interpreter;

/// <summary>A frame is cleared on entry only below what may have been written since (its floor): whatever wrote the
/// stack in one run, an unwritten slot reads 0 in the next. Each program writes fp-16 only when the input's first
/// byte is 1, then returns the 8 bytes at fp-16.</summary>
public class StackClearingTests
{
    private const int HelperWrite = 200;

    private static ulong[] TwoRuns(Instruction[] slots, HelperTable? helpers = null)
    {
        using var vm = new BpfInterpreter(BpfProgram.Create(slots), helpers);
        ulong first = vm.RunWithMemory([1]).R0;
        ulong second = vm.RunWithMemory([0]).R0;
        return [first, second];
    }

    // if (input[0] == 1) { write }  r0 = *(u64 *)(r10 - 16)
    private static Instruction[] WriteIfFirst(params Instruction[] write) => Prog(
        I(Op.LdxB, R2, R1),
        I(Op.JneImm, R2, off: (short)write.Length, imm: 1),
        write,
        I(Op.LdxDw, R0, R10, -16),
        Exit());

    [Fact]
    public void Store_NextRun_ReadsZero()
    {
        Assert.Equal([0x55UL, 0], TwoRuns(WriteIfFirst(I(Op.StDw, R10, off: -16, imm: 0x55))));
    }

    [Fact]
    public void StoreThroughAnotherRegister_NextRun_ReadsZero()
    {
        Assert.Equal([7UL, 0], TwoRuns(WriteIfFirst(Mov64(R3, R10), I(Op.StDw, R3, off: -16, imm: 7))));
    }

    [Fact]
    public void Atomic_NextRun_ReadsZero()
    {
        Assert.Equal([5UL, 0], TwoRuns(WriteIfFirst(Mov64(R3, 5), I(Op.AtomicDw, R10, R3, -16, (int)AtomicOp.Add))));
    }

    [Fact]
    public void HelperWrite_NextRun_ReadsZero()
    {
        var table = new HelperTable();
        table.Register(HelperWrite, "bpf_test_write", (r1, _, _, _, _, _) =>
        {
            unsafe
            {
                *(ulong*)r1 = 0xabcd;
            }

            return 0;
        });
        var prog = WriteIfFirst(Mov64(R1, R10), I(Op.Add64Imm, R1, imm: -16), new Instruction(Op.Call, 0, 0, 0, HelperWrite));
        Assert.Equal([0xabcdUL, 0], TwoRuns(prog, table));
    }

    [Fact]
    public void CalleeWritesCallerFrame_NextRun_ReadsZero()
    {
        // f(r1 = fp-16): *(u64 *)r1 = 9 — a store into the caller's frame, through the region table.
        var prog = Prog(
            I(Op.LdxB, R2, R1),
            I(Op.JneImm, R2, off: 3, imm: 1),
            Mov64(R1, R10),
            I(Op.Add64Imm, R1, imm: -16),
            new Instruction(Op.Call, 0, Register.R1, 0, 2),
            I(Op.LdxDw, R0, R10, -16),
            Exit(),
            I(Op.StDw, R1, imm: 9),
            Exit());
        Assert.Equal([9UL, 0], TwoRuns(prog));
    }

    [Fact]
    public void CalleeFrame_NextCall_ReadsZero()
    {
        // f stores at its fp-8 and returns what was there before: the second call's frame is cleared again.
        var prog = Prog(
            new Instruction(Op.Call, 0, Register.R1, 0, 3),
            new Instruction(Op.Call, 0, Register.R1, 0, 2),
            Exit(),
            Exit(),
            I(Op.LdxDw, R0, R10, -8),   // f
            I(Op.StDw, R10, off: -8, imm: 3),
            Exit());
        Assert.Equal(0UL, Run(prog).R0);
    }

    [Fact]
    public void FaultAfterAStore_NextRun_ReadsZero()
    {
        using var vm = new BpfInterpreter(BpfProgram.Create(Prog(
            I(Op.LdxB, R2, R1),
            I(Op.JneImm, R2, off: 2, imm: 1),
            I(Op.StDw, R10, off: -16, imm: 0x77),
            I(Op.LdxDw, R0, R2, 0),              // faults: r2 = 1 is no address
            I(Op.LdxDw, R0, R10, -16),
            Exit())));
        Assert.Throws<ExecutionFaultException>(() => vm.RunWithMemory([1]));
        Assert.Equal(0UL, vm.RunWithMemory([0]).R0);
    }

    [Fact]
    public void RunXdpBuffer_NoRegionNeeded_LeavesTheTableAndEnvAsFound()
    {
        using var vm = new BpfInterpreter(BpfProgram.Create(Prog(I(Op.LdxW, R2, R1, XdpMd.Data), I(Op.LdxB, R0, R2), Exit())));
        var buffer = new XdpBuffer();
        Assert.Equal(0, buffer.Load([0x2a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], 1, 0));
        int before = vm.Env.Regions.Count;
        Assert.Equal(0x2aUL, vm.RunXdp(buffer).R0);
        Assert.Equal(before, vm.Env.Regions.Count);
        Assert.Null(vm.Env.Xdp);
        Assert.Equal(-1, vm.Env.PacketRegionIndex);
    }

    [Fact]
    public void RunXdpBuffer_Helper_SeesTheRunsRegionsAndBuffer()
    {
        var buffer = new XdpBuffer();
        Assert.Equal(0, buffer.Load(new byte[20], 1, 0));
        string? seen = null;
        var table = HelperTable.CreateDefault();
        table.Register(HelperWrite, "bpf_test_look", (_, _, _, _, _, env) =>
        {
            seen = $"{ReferenceEquals(env.Xdp, buffer)} {env.Regions[env.PacketRegionIndex].Name} {env.Regions[env.Regions.Count - 1].Name}";
            return 0;
        });
        using var vm = new BpfInterpreter(BpfProgram.Create(Prog(new Instruction(Op.Call, 0, 0, 0, HelperWrite), Exit())), table);
        vm.RunXdp(buffer);
        Assert.Equal("True packet stack frame 0", seen);
        Assert.Null(vm.Env.Xdp);
    }

    [Fact]
    public void RunXdpBuffer_LoadPastThePacket_FaultNamesThePacket()
    {
        using var vm = new BpfInterpreter(BpfProgram.Create(Prog(
            I(Op.LdxW, R2, R1, XdpMd.DataEnd),
            I(Op.LdxB, R0, R2),
            Exit())));
        var buffer = new XdpBuffer();
        Assert.Equal(0, buffer.Load(new byte[20], 1, 0));
        int before = vm.Env.Regions.Count;
        var e = Assert.Throws<ExecutionFaultException>(() => vm.RunXdp(buffer));
        Assert.Equal(FaultKind.OutOfBounds, e.Kind);
        Assert.Equal(1, e.Pc);
        Assert.Contains("just past the end of packet", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, vm.Env.Regions.Count);
        Assert.Null(vm.Env.Xdp);
        Assert.Equal(-1, vm.Env.PacketRegionIndex);
    }
}
