using BenchmarkDotNet.Attributes;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Xdp;

namespace VethXdp.Benchmarks;

/// <summary>The checked reference interpreter's cost per executed instruction, on an ALU loop and a memory loop, and
/// its fixed cost per run (an XDP program of two instructions on a loaded frame, as <c>vethxdp bench</c> runs it).</summary>
/// <remarks>Run: <c>dotnet run -c Release --project tests/VethXdp.Benchmarks -- --filter '*InterpreterBenchmarks*'</c>.
/// OperationsPerInvoke is the exact number of instructions each loop program executes, so Mean reads as ns per
/// instruction (for the XDP run: ns per run); the memory diagnoser must show 0 B allocated.</remarks>
[MemoryDiagnoser]
public class InterpreterBenchmarks
{
    /// <summary>2 setup + 1000 iterations x 6 + exit.</summary>
    public const int AluInstructions = 2 + (1000 * 6) + 1;

    /// <summary>4 setup + 512 iterations x 6 + exit.</summary>
    public const int MemInstructions = 4 + (512 * 6) + 1;

    private const string AluLoop = """
        mov %r0, 0
        mov %r1, 1000
        loop:
        add %r0, %r1
        xor %r0, 0x55
        lsh %r0, 1
        rsh %r0, 1
        sub %r1, 1
        jne %r1, 0, loop
        exit
        """;

    private const string MemLoop = """
        mov %r0, 0
        mov %r3, %r1
        mov %r4, %r1
        add %r4, 4096
        loop:
        ldxdw %r5, [%r3]
        add %r0, %r5
        add %r5, 1
        stxdw [%r3], %r5
        add %r3, 8
        jlt %r3, %r4, loop
        exit
        """;

    /// <summary>Runs per invocation of the XDP benchmark.</summary>
    public const int XdpRuns = 1000;

    private BpfInterpreter _alu = null!;
    private BpfInterpreter _mem = null!;
    private BpfInterpreter _pass = null!;
    private readonly XdpBuffer _buffer = new();
    private readonly byte[] _memory = GC.AllocateArray<byte>(4096, pinned: true);

    /// <summary>Assembles both programs and checks their instruction counts once.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _alu = new BpfInterpreter(BpfProgram.Create(Assembler.Assemble(AluLoop), "alu_loop"), HelperTable.CreateDefault());
        _mem = new BpfInterpreter(BpfProgram.Create(Assembler.Assemble(MemLoop), "mem_loop"), HelperTable.CreateDefault());
        Check(_alu.RunWithMemory(_memory).InstructionsExecuted, AluInstructions);
        Check(_mem.RunWithMemory(_memory).InstructionsExecuted, MemInstructions);

        // xdp_pass: r0 = XDP_PASS; exit, on a 64-byte frame.
        _pass = new BpfInterpreter(BpfProgram.Create(Assembler.Assemble("mov %r0, 2\nexit"), "xdp_pass"), HelperTable.CreateDefault());
        if (_buffer.Load(new byte[64], 1, 0) != 0)
        {
            throw new InvalidOperationException("the frame does not load");
        }

        Check(_pass.RunXdp(_buffer).InstructionsExecuted, 2);
    }

    /// <summary>Releases the interpreters.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _alu.Dispose();
        _mem.Dispose();
        _pass.Dispose();
    }

    /// <summary>ALU loop: add, xor, shifts, sub and a conditional jump.</summary>
    [Benchmark(OperationsPerInvoke = AluInstructions)]
    public ulong AluLoopPerInstruction() => _alu.RunWithMemory(_memory).R0;

    /// <summary>Memory loop: an 8-byte load and store per iteration, each checked against the regions.</summary>
    [Benchmark(OperationsPerInvoke = MemInstructions)]
    public ulong MemoryLoopPerInstruction() => _mem.RunWithMemory(_memory).R0;

    /// <summary>The fixed cost of a run: an XDP program of two instructions, 1,000 runs on one loaded frame.</summary>
    [Benchmark(OperationsPerInvoke = XdpRuns)]
    public ulong XdpPassPerRun()
    {
        ulong r0 = 0;
        for (int i = 0; i < XdpRuns; i++)
        {
            r0 = _pass.RunXdp(_buffer).R0;
        }

        return r0;
    }

    private static void Check(long actual, int expected)
    {
        if (actual != expected)
        {
            throw new InvalidOperationException($"benchmark program executed {actual} instructions, expected {expected}");
        }
    }
}
