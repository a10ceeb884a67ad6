using VethXdp.Vm.Isa;

namespace VethXdp.Jit.Emitters;

/// <summary>Unchecked mode: which 4-byte loads go through the context pointer. A forward data-flow pass over the
/// verified program tracks, per slot and register, whether the register may hold the context pointer (r1 at slot 0),
/// may hold something else, or both.</summary>
/// <remarks>
/// <para>Why a load needs to know: the kernel rewrites every context load into a load of its own structures
/// (convert_ctx_accesses), using the verifier's record of which loads saw PTR_TO_CTX. The token does not carry that
/// record, so unchecked code recognised the context by address at every 4-byte load. With this analysis a load whose
/// base is the context on every path reads the field directly (after one compare of the base with the run's
/// context), one whose base is never the context is a plain load, and only the others keep the address check. (The
/// kernel also refuses a load that sees the context on one path and another pointer on another: "same insn cannot
/// be used with different pointers".)</para>
/// <para>The analysis is conservative (any doubt gives <see cref="Unknown"/>): the context enters only as r1 at
/// slot 0; a 64-bit move copies the state; any other 64-bit ALU with the context on either side may derive from it
/// (Unknown); 32-bit ALU, constants, helper results and LD_ABS results are not the context (no helper returns it; a
/// kfunc's or callx's result is Unknown); a load gives Unknown when anywhere in the program a register that may hold
/// the context is stored to memory (a spill), else not the context; a BPF-to-BPF call leaves r0-r5 Unknown (the
/// callee shares them) and every function entry other than slot 0 (callees, callbacks) starts with all Unknown.
/// Tail-call targets are compiled on their own, with r1 the context at their slot 0.</para>
/// <para>States are two bits per register joined by OR: 1 = not the context, 2 = the context, 3 = either.</para>
/// </remarks>
internal static class CtxPointers
{
    /// <summary>Not reached (no state yet).</summary>
    public const int Unreached = 0;

    /// <summary>The register does not hold the context pointer on any path.</summary>
    public const int NotCtx = 1;

    /// <summary>The register holds the context pointer (exactly, no offset) on every path that reaches here.</summary>
    public const int Ctx = 2;

    /// <summary>Either, or something derived from the context.</summary>
    public const int Unknown = 3;

    private const uint AllNotCtx = 0x155555;   // 11 registers, each 01
    private const uint AllUnknown = 0x3FFFFF;

    /// <summary>For each slot that is a 4-byte load (BPF_LDX | BPF_MEM/MEMSX | BPF_W), the state of its base register
    /// on entry; <see cref="Unknown"/> elsewhere.</summary>
    public static int[] Analyze(ReadOnlySpan<Instruction> slots, IReadOnlyList<int> entries)
    {
        var result = new int[slots.Length];
        Array.Fill(result, Unknown);
        bool spilled = false;
        uint[] state;
        while (true)
        {
            state = Solve(slots, entries, spilled);
            if (spilled || !AnySpill(slots, state))
            {
                break;
            }

            spilled = true;
        }

        for (int pc = 0; pc < slots.Length; pc++)
        {
            var insn = slots[pc];
            if (insn.Class == OpClass.Ldx && insn.AccessBytes == 4)
            {
                result[pc] = Get(state[pc], insn.SrcReg);
            }
        }

        return result;
    }

    private static int Get(uint w, int reg) => (int)((w >> (2 * reg)) & 3);

    private static uint Set(uint w, int reg, int v) => (w & ~(3u << (2 * reg))) | ((uint)v << (2 * reg));

    // Does a store or atomic anywhere put a register that may hold the context into memory?
    private static bool AnySpill(ReadOnlySpan<Instruction> slots, uint[] state)
    {
        for (int pc = 0; pc < slots.Length; pc++)
        {
            var insn = slots[pc];
            if (insn.Class == OpClass.Stx && (Get(state[pc], insn.SrcReg) & Ctx) != 0)
            {
                return true;
            }

            if (insn.IsLdImm64)
            {
                pc++;
            }
        }

        return false;
    }

    private static uint[] Solve(ReadOnlySpan<Instruction> slots, IReadOnlyList<int> entries, bool spilled)
    {
        int n = slots.Length;
        var state = new uint[n + 1];
        var queued = new bool[n + 1];
        var work = new Stack<int>();
        void Flow(uint[] st, bool[] q, Stack<int> w, int to, uint s)
        {
            if ((uint)to > (uint)n)
            {
                return;
            }

            uint joined = st[to] | s;
            if (joined != st[to])
            {
                st[to] = joined;
                if (!q[to])
                {
                    q[to] = true;
                    w.Push(to);
                }
            }
        }

        Flow(state, queued, work, 0, Set(AllNotCtx, 1, Ctx));
        for (int i = 0; i < entries.Count; i++)
        {
            if (entries[i] != 0)
            {
                Flow(state, queued, work, entries[i], AllUnknown);
            }
        }

        int loaded = spilled ? Unknown : NotCtx;
        while (work.Count > 0)
        {
            int pc = work.Pop();
            queued[pc] = false;
            if (pc >= n)
            {
                continue;
            }

            uint w = state[pc];
            var insn = slots[pc];
            int next = pc + 1;
            switch (insn.Class)
            {
                case OpClass.Alu64:
                    if (insn.AluOp == AluOp.Mov)
                    {
                        // mov64 dst, src copies; movsx and mov imm make a scalar.
                        w = Set(w, insn.DstReg, insn.SrcIsReg && insn.Offset == 0 ? Get(w, insn.SrcReg) : NotCtx);
                    }
                    else
                    {
                        int s = Get(w, insn.DstReg) | (insn.SrcIsReg ? Get(w, insn.SrcReg) : 0);
                        w = Set(w, insn.DstReg, (s & Ctx) != 0 ? Unknown : NotCtx);
                    }

                    break;
                case OpClass.Alu:
                    w = Set(w, insn.DstReg, NotCtx);
                    break;
                case OpClass.Ldx:
                    w = Set(w, insn.DstReg, loaded);
                    break;
                case OpClass.St:
                    break;
                case OpClass.Stx:
                    if (insn.Mode == MemMode.Atomic)
                    {
                        if (insn.Imm == (int)AtomicOp.CmpXchg)
                        {
                            w = Set(w, 0, loaded);
                        }
                        else if ((insn.Imm & (int)AtomicOp.Fetch) != 0)
                        {
                            w = Set(w, insn.SrcReg, loaded);
                        }
                    }

                    break;
                case OpClass.Ld:
                    if (insn.IsLdImm64)
                    {
                        w = Set(w, insn.DstReg, NotCtx);
                        next = pc + 2;
                    }
                    else
                    {
                        w = Set(w, 0, NotCtx);
                    }

                    break;
                default:
                    // Jmp, Jmp32
                    if (insn.JmpOp == JmpOp.Exit)
                    {
                        continue;
                    }

                    if (insn.JmpOp == JmpOp.Call)
                    {
                        if (insn.Opcode == Op.Call && insn.SrcReg == (int)CallKind.Local)
                        {
                            for (int r = 0; r <= 5; r++)
                            {
                                w = Set(w, r, Unknown);
                            }
                        }
                        else
                        {
                            // No helper returns the context (the kernel's prototypes give none PTR_TO_CTX); a kfunc
                            // or a callx is not assumed either way.
                            w = Set(w, 0, insn.Opcode == Op.Call && insn.SrcReg == (int)CallKind.Helper ? NotCtx : Unknown);
                        }

                        break;
                    }

                    if (insn.Opcode == Op.Ja32)
                    {
                        Flow(state, queued, work, pc + 1 + insn.Imm, w);
                        continue;
                    }

                    Flow(state, queued, work, pc + 1 + insn.Offset, w);
                    if (insn.JmpOp == JmpOp.Ja)
                    {
                        continue;
                    }

                    break;
            }

            Flow(state, queued, work, next, w);
        }

        return state;
    }
}
