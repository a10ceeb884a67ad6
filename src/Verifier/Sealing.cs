using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier;

/// <summary>Turns an accepted verification into the <see cref="VerifiedProgram"/> token the unchecked JIT (engine
/// <c>jit</c>) demands: the only way to get one.</summary>
/// <remarks>
/// <para>The token names the <see cref="ExecutableProgram"/> an engine runs, which the loader prepared from the
/// verified <see cref="ProgramSpec"/> (kernel: the verifier runs on the instructions after resolve_pseudo_ldimm64()).
/// Sealing checks that it is that program: the same slots, except that a map reference (ld_imm64 with src
/// MapFd / MapValue / MapIdx / MapIdxValue) may have become the map's address (src 0, any imm in both slots).</para>
/// <para>The token also carries the stack depth the verifier proved for each function (<see cref="VerifiedStack"/>),
/// so the unchecked JIT clears only the stack bytes a frame can touch.</para>
/// </remarks>
public static class Sealing
{
    /// <summary>Verifies <paramref name="spec"/> and, when the verifier accepts it, seals <paramref name="prepared"/>.</summary>
    /// <param name="spec">The linked program.</param>
    /// <param name="maps">The object's maps.</param>
    /// <param name="prepared">The program as the engine will run it (prepared from <paramref name="spec"/>).</param>
    /// <param name="options">Verifier options; the program's own type when null.</param>
    /// <param name="result">The verification's outcome (its log and counters).</param>
    /// <returns>The token, or null when the verifier rejected the program.</returns>
    /// <exception cref="ArgumentException"><paramref name="prepared"/> is not <paramref name="spec"/> prepared.</exception>
    public static VerifiedProgram? TryVerify(ProgramSpec spec, IReadOnlyList<MapSpec> maps, ExecutableProgram prepared,
        VerifierOptions? options, out VerificationResult result)
    {
        ArgumentNullException.ThrowIfNull(prepared);
        CheckSameProgram(spec, prepared);
        result = BpfVerifier.Verify(spec, maps, options);
        return result.Accepted ? Seal(result, spec, prepared) : null;
    }

    /// <summary>The token for <paramref name="prepared"/>, which <paramref name="result"/> accepted as
    /// <paramref name="spec"/>.</summary>
    /// <param name="result">An accepted verification of <paramref name="spec"/>.</param>
    /// <param name="spec">The program that was verified.</param>
    /// <param name="prepared">The program as the engine will run it.</param>
    /// <exception cref="InvalidOperationException">The verifier rejected the program.</exception>
    /// <exception cref="ArgumentException"><paramref name="prepared"/> is not <paramref name="spec"/> prepared.</exception>
    public static VerifiedProgram Seal(this VerificationResult result, ProgramSpec spec, ExecutableProgram prepared)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(prepared);
        if (!result.Accepted)
        {
            throw new InvalidOperationException($"program {spec?.Name} was rejected ({result.Error}): only an accepted program gets a VerifiedProgram token");
        }

        CheckSameProgram(spec, prepared);
        var token = new VerifiedProgram(prepared);
        var starts = FunctionStarts(prepared.Slots);
        var depths = result.Stats.StackDepths;
        if (starts.Count == depths.Count)
        {
            var d = new int[depths.Count];
            for (int i = 0; i < d.Length; i++)
            {
                d[i] = depths[i];
            }

            VerifiedStack.Record(token, [.. starts], d);
        }

        return token;
    }

    // The slots an engine runs must be the verified ones; the loader may only have put map addresses into map loads.
    private static void CheckSameProgram(ProgramSpec? spec, ExecutableProgram prepared)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var verified = spec.Slots;
        var running = prepared.Slots;
        if (verified.Count != running.Length)
        {
            throw new ArgumentException($"{prepared.Name}: {running.Length} slots, but {spec.Name} was verified with {verified.Count}", nameof(prepared));
        }

        for (int pc = 0; pc < verified.Count; pc++)
        {
            var v = verified[pc];
            var r = running[pc];
            if (v.IsLdImm64 && pc + 1 < verified.Count && IsMapReference(v))
            {
                // kernel: resolve_pseudo_ldimm64() replaces the fd or index by the map's address.
                if (!r.IsLdImm64 || r.DstReg != v.DstReg || r.Offset != v.Offset || running[pc + 1].Opcode != 0)
                {
                    throw Mismatch(prepared, spec, pc);
                }

                pc++;
                continue;
            }

            if (!v.Equals(r))
            {
                throw Mismatch(prepared, spec, pc);
            }
        }
    }

    private static bool IsMapReference(Instruction insn) =>
        (PseudoSrc)insn.SrcReg is PseudoSrc.MapFd or PseudoSrc.MapValue or PseudoSrc.MapIdx or PseudoSrc.MapIdxValue;

    private static ArgumentException Mismatch(ExecutableProgram prepared, ProgramSpec spec, int pc) =>
        new($"{prepared.Name}: insn {pc} is not the instruction {spec.Name} was verified with", nameof(prepared));

    // The subprograms in slot order, as the kernel finds them (add_subprog_and_kfunc(): slot 0, every BPF-to-BPF call
    // target, every BPF_PSEUDO_FUNC load target), so index i matches the verifier's stack depth i.
    private static List<int> FunctionStarts(ReadOnlySpan<Instruction> slots)
    {
        var starts = new SortedSet<int> { 0 };
        for (int pc = 0; pc < slots.Length; pc++)
        {
            var insn = slots[pc];
            if (insn.Opcode == Op.Call && insn.SrcReg == (int)CallKind.Local)
            {
                starts.Add(pc + insn.Imm + 1);
            }
            else if (insn.IsLdImm64)
            {
                if (insn.SrcReg == (int)PseudoSrc.Func)
                {
                    starts.Add(pc + insn.Imm + 1);
                }

                pc++;
            }
        }

        return [.. starts];
    }
}
