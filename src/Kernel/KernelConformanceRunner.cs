using System.Buffers.Binary;
using VethXdp.Vm.Conformance;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;

namespace VethXdp.Kernel;

/// <summary>Runs a bpf_conformance file in the running kernel, the way bpf_conformance's Linux plugin does with
/// <c>--xdp_prolog true</c>: the prolog (when the file has memory) and the program, loaded as XDP and run once with
/// BPF_PROG_TEST_RUN over the memory, padded with zeros to the 14 bytes the kernel demands.</summary>
/// <remarks>
/// With <see cref="KernelConformanceMode.Wrapped"/> (the default), the program becomes a BPF-to-BPF subprogram of a
/// small main program that stores its r0 in a one-entry array map, so all 64 bits of r0 come back; retval only
/// carries the low 32. <see cref="KernelConformanceMode.Plain"/> loads the program as the main program, as libbpf's
/// plugin does, and gives retval zero-extended.
/// </remarks>
public static class KernelConformanceRunner
{
    /// <summary>The frame length the kernel demands at least (ETH_HLEN).</summary>
    public const int MinFrame = 14;

    private const string ResultMap = "conformance_r0";

    /// <summary>Loads and runs <paramref name="file"/>; a program the verifier refuses is a result, not an exception.</summary>
    /// <param name="file">The conformance file.</param>
    /// <param name="mode">Whether r0 comes back whole (wrapped) or as retval (plain).</param>
    /// <exception cref="KernelBpfException">Something other than the program's load failed (a map, the test run).</exception>
    public static KernelConformanceResult Run(ConformanceFile file, KernelConformanceMode mode = KernelConformanceMode.Wrapped)
    {
        ArgumentNullException.ThrowIfNull(file);
        var body = new List<Instruction>();
        if (file.HasMemory)
        {
            body.AddRange(ConformanceRunner.XdpProlog(file.Memory.Length));
        }

        body.AddRange(file.Slots);
        var packet = new byte[Math.Max(MinFrame, file.Memory.Length)];
        file.Memory.CopyTo(packet, 0);

        bool wrapped = mode == KernelConformanceMode.Wrapped;
        var program = new ProgramSpec
        {
            Name = "conformance",
            SectionName = "xdp",
            Type = ProgramType.Xdp,
            ExpectedAttachType = BpfFlags.AttachXdp,
            Slots = wrapped ? [.. Wrapper(), .. body] : body,
            License = "GPL",
        };
        MapSpec[] maps = wrapped
            ? [new MapSpec { Name = ResultMap, Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 1 }]
            : [];

        KernelObject obj;
        try
        {
            obj = KernelObject.Load(maps, [program]);
        }
        catch (KernelBpfException e) when (e.Command == BpfCommand.ProgLoad)
        {
            return new KernelConformanceResult(false, 0, 0, e.VerifierMessage ?? $"{e.ErrnoName} without a verifier log", e);
        }

        using (obj)
        {
            var run = obj.TestRun(program.Name, packet);
            ulong r0 = run.Retval;
            if (wrapped)
            {
                var value = new byte[8];
                obj.LookupMap(ResultMap, stackalloc byte[4], value);
                r0 = BinaryPrimitives.ReadUInt64LittleEndian(value);
            }

            return new KernelConformanceResult(true, r0, run.Retval, null, null);
        }
    }

    /// <summary>The main program of <see cref="KernelConformanceMode.Wrapped"/>: call the subprogram that follows it
    /// (r1, the context, passes through), store its r0 at key 0 of map index 0, return it.</summary>
    /// <remarks>
    /// <code>
    ///  0: call pc+12                       ; the program under test, at slot 13
    ///  1: *(u64 *)(r10 -8) = r0
    ///  2: *(u32 *)(r10 -12) = 0
    ///  3: r1 = map[idx:0]                  ; two slots
    ///  5: r2 = r10
    ///  6: r2 += -12
    ///  7: r3 = r10
    ///  8: r3 += -8
    ///  9: r4 = 0
    /// 10: call bpf_map_update_elem#2
    /// 11: r0 = *(u64 *)(r10 -8)
    /// 12: exit
    /// </code>
    /// </remarks>
    public static Instruction[] Wrapper() =>
    [
        new(Op.Call, Register.R0, (Register)CallKind.Local, 0, 12),
        new(Op.StxDw, Register.R10, Register.R0, -8, 0),
        new(Op.StW, Register.R10, Register.R0, -12, 0),
        new(Op.LdDw, Register.R1, (Register)PseudoSrc.MapIdx, 0, 0),
        new(0, 0, 0, 0, 0),
        new(Op.Mov64Reg, Register.R2, Register.R10, 0, 0),
        new(Op.Add64Imm, Register.R2, Register.R0, 0, -12),
        new(Op.Mov64Reg, Register.R3, Register.R10, 0, 0),
        new(Op.Add64Imm, Register.R3, Register.R0, 0, -8),
        new(Op.Mov64Imm, Register.R4, Register.R0, 0, 0),
        new(Op.Call, Register.R0, Register.R0, 0, 2),
        new(Op.LdxDw, Register.R0, Register.R10, -8, 0),
        new(Op.Exit, 0, 0, 0, 0),
    ];
}

/// <summary>How <see cref="KernelConformanceRunner"/> gets r0 back.</summary>
public enum KernelConformanceMode
{
    /// <summary>The program is a subprogram whose r0 the main program stores in a map: all 64 bits.</summary>
    Wrapped,

    /// <summary>The program is the main program: r0's low 32 bits, as retval (bpf_conformance's libbpf plugin).</summary>
    Plain,
}

/// <summary>What the kernel made of one conformance file.</summary>
/// <param name="Accepted">False when the verifier refused the program.</param>
/// <param name="R0">r0 (all 64 bits when wrapped; retval zero-extended when plain).</param>
/// <param name="Retval">retval as BPF_PROG_TEST_RUN gave it.</param>
/// <param name="RefusalReason">The verifier's message for a refused program, else null.</param>
/// <param name="Error">The refusal, with the full verifier log, else null.</param>
public sealed record KernelConformanceResult(bool Accepted, ulong R0, uint Retval, string? RefusalReason, KernelBpfException? Error);
