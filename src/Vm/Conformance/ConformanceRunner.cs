using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Runtime;

namespace VethXdp.Vm.Conformance;

/// <summary>Runs one bpf_conformance file in the interpreter and returns r0.</summary>
public static class ConformanceRunner
{
    /// <summary>Runs <paramref name="file"/> in <paramref name="mode"/> with the default helpers; returns the final r0.</summary>
    /// <exception cref="ExecutionFaultException">The program faulted.</exception>
    /// <exception cref="BpfFormatException">The program is malformed.</exception>
    public static ulong Run(ConformanceFile file, ConformanceMode mode) => Run(file, mode, null, null);

    /// <summary>Runs <paramref name="file"/> in <paramref name="mode"/>; returns the final r0.</summary>
    /// <remarks>The file's memory is copied first, so a run that stores into it leaves <paramref name="file"/> unchanged.</remarks>
    public static ulong Run(ConformanceFile file, ConformanceMode mode, HelperTable? helpers, InterpreterOptions? options) =>
        Run(file, mode, helpers, options, null);

    /// <summary>Runs <paramref name="file"/> in <paramref name="mode"/> on the engine <paramref name="engine"/> makes (the
    /// interpreter when null); returns the final r0.</summary>
    /// <remarks>The file's memory is copied first, so a run that stores into it leaves <paramref name="file"/> unchanged.</remarks>
    public static ulong Run(ConformanceFile file, ConformanceMode mode, HelperTable? helpers, InterpreterOptions? options, IBpfEngineFactory? engine)
    {
        ArgumentNullException.ThrowIfNull(file);
        var memory = (byte[])file.Memory.Clone();
        var slots = new Instruction[file.Slots.Count];
        for (int i = 0; i < slots.Length; i++)
        {
            slots[i] = file.Slots[i];
        }

        switch (mode)
        {
            case ConformanceMode.Raw:
            case ConformanceMode.Elf:
            {
                using var vm = Engine(engine, BpfProgram.Create(slots, file.Name), helpers, options);
                return vm.RunWithMemory(memory).R0;
            }

            case ConformanceMode.XdpProlog:
            {
                // Without memory the program runs unchanged, with r1 = a context over an empty packet.
                var program = file.HasMemory ? [.. XdpProlog(memory.Length), .. slots] : slots;
                using var vm = Engine(engine, BpfProgram.Create(program, file.Name), helpers, options);
                return vm.RunXdp(memory, 1, 0).R0;
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown conformance mode");
        }
    }

    private static IBpfEngine Engine(IBpfEngineFactory? engine, BpfProgram program, HelperTable? helpers, InterpreterOptions? options) =>
        (engine ?? InterpreterEngineFactory.Instance).Create(new ExecutableProgram(program), helpers, options, null);

    /// <summary>
    /// The prolog bpf_conformance prepends for Linux (<c>--xdp_prolog true</c>): it turns the XDP context in r1 into
    /// r1 = data, r2 = <paramref name="size"/>, and returns -1 when the packet is shorter than <paramref name="size"/>.
    /// </summary>
    /// <remarks>
    /// <code>
    /// 0: r0 = -1                 b7
    /// 1: r6 = r1                 bf
    /// 2: r1 = *(u32 *)(r6 +0)    61   data
    /// 3: r2 = *(u32 *)(r6 +4)    61   data_end
    /// 4: r3 = r1                 bf
    /// 5: r3 += size              07
    /// 6: if r3 &lt;= r2 goto +1   bd
    /// 7: exit                    95
    /// 8: r2 = size               b7
    /// </code>
    /// </remarks>
    public static Instruction[] XdpProlog(int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        return
        [
            new(Op.Mov64Imm, Register.R0, 0, 0, -1),
            new(Op.Mov64Reg, Register.R6, Register.R1, 0, 0),
            new(Op.LdxW, Register.R1, Register.R6, 0, 0),
            new(Op.LdxW, Register.R2, Register.R6, 4, 0),
            new(Op.Mov64Reg, Register.R3, Register.R1, 0, 0),
            new(Op.Add64Imm, Register.R3, 0, 0, size),
            new(Op.JleReg, Register.R3, Register.R2, 1, 0),
            new(Op.Exit, 0, 0, 0, 0),
            new(Op.Mov64Imm, Register.R2, 0, 0, size),
        ];
    }
}
