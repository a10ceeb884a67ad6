using VethXdp.Verifier.Cfg;
using VethXdp.Verifier.Helpers;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Checks;

/// <summary>Which registers each instruction may read before they are written again (Linux 6.18's
/// <c>compute_live_registers()</c>, printed at log level 2 as the <c>Live regs before insn:</c> table): a backward
/// data-flow fix point over the instructions, each with its use and def sets.</summary>
public static class LiveRegs
{
    /// <summary>Computes the live set before every slot (bit i set = Ri live; R10 never).</summary>
    /// <param name="insns">The program.</param>
    /// <param name="subprogs">Its functions (unused today: calls are modelled by their argument registers).</param>
    /// <param name="type">The program type, for helper prototypes' argument counts.</param>
    public static ushort[] Compute(ReadOnlySpan<Instruction> insns, IReadOnlyList<SubprogInfo>? subprogs = null,
        ProgramType type = ProgramType.Xdp)
    {
        _ = subprogs;
        int n = insns.Length;
        var use = new ushort[n];
        var def = new ushort[n];
        for (int i = 0; i < n; i++)
        {
            (use[i], def[i]) = UseDef(insns, i, type);
            if (insns[i].IsLdImm64 && i + 1 < n)
            {
                i++;
            }
        }

        var live = new ushort[n];
        bool changed = true;
        while (changed)
        {
            changed = false;
            for (int i = n - 1; i >= 0; i--)
            {
                if (i > 0 && insns[i - 1].IsLdImm64)
                {
                    continue; // the second slot of an lddw is no instruction
                }

                ushort outSet = 0;
                var insn = insns[i];
                int next = insn.IsLdImm64 ? i + 2 : i + 1;
                switch (FlowOf(insn))
                {
                    case Flow.Exit:
                        break;
                    case Flow.Ja:
                        outSet = LiveAt(live, insn.Class == OpClass.Jmp32 ? i + insn.Imm + 1 : i + insn.Offset + 1);
                        break;
                    case Flow.Cond:
                        outSet = (ushort)(LiveAt(live, next) | LiveAt(live, i + insn.Offset + 1));
                        break;
                    default:
                        outSet = LiveAt(live, next);
                        break;
                }

                ushort inSet = (ushort)((outSet & ~def[i]) | use[i]);
                inSet &= 0x3ff;
                if (inSet != live[i])
                {
                    live[i] = inSet;
                    changed = true;
                }
            }
        }

        return live;
    }

    /// <summary>The table's text for one instruction: ten characters, the register's digit where live, '.'
    /// elsewhere (<c>.12...6...</c>).</summary>
    public static string Format(ushort live)
    {
        Span<char> s = stackalloc char[10];
        for (int r = 0; r < 10; r++)
        {
            s[r] = (live & (1 << r)) != 0 ? (char)('0' + r) : '.';
        }

        return new string(s);
    }

    /// <summary>The loop (strongly connected component) each instruction belongs to, numbered from 1 in the order a
    /// depth-first search from instruction 0 completes them, or 0 outside loops (6.18's <c>compute_scc()</c>; the
    /// live-regs table prints the number before the index).</summary>
    public static int[] LoopIds(ReadOnlySpan<Instruction> insns)
    {
        int n = insns.Length;
        var index = new int[n];
        var low = new int[n];
        var onStack = new bool[n];
        var scc = new int[n];
        Array.Fill(index, -1);
        var stack = new Stack<int>();
        var work = new Stack<(int Node, int Next)>();
        int counter = 0, nextId = 1;
        var succ = new List<int>(2);
        for (int root = 0; root < n; root++)
        {
            if (index[root] >= 0 || (root > 0 && insns[root - 1].IsLdImm64))
            {
                continue;
            }

            work.Push((root, 0));
            while (work.Count > 0)
            {
                var (v, k) = work.Pop();
                if (k == 0)
                {
                    index[v] = low[v] = counter++;
                    stack.Push(v);
                    onStack[v] = true;
                }

                Successors(insns, v, succ);
                bool descended = false;
                for (int i = k; i < succ.Count; i++)
                {
                    int w = succ[i];
                    if ((uint)w >= (uint)n)
                    {
                        continue;
                    }

                    if (index[w] < 0)
                    {
                        work.Push((v, i + 1));
                        work.Push((w, 0));
                        descended = true;
                        break;
                    }

                    if (onStack[w])
                    {
                        low[v] = Math.Min(low[v], index[w]);
                    }
                }

                if (descended)
                {
                    continue;
                }

                if (low[v] == index[v])
                {
                    var members = new List<int>();
                    int w;
                    do
                    {
                        w = stack.Pop();
                        onStack[w] = false;
                        members.Add(w);
                    }
                    while (w != v);

                    Successors(insns, v, succ);
                    bool loop = members.Count > 1 || succ.Contains(v);
                    if (loop)
                    {
                        foreach (int m in members)
                        {
                            scc[m] = nextId;
                        }

                        nextId++;
                    }
                }

                if (work.Count > 0)
                {
                    var (parent, _) = work.Peek();
                    low[parent] = Math.Min(low[parent], low[v]);
                }
            }
        }

        return scc;
    }

    private static void Successors(ReadOnlySpan<Instruction> insns, int i, List<int> succ)
    {
        succ.Clear();
        var insn = insns[i];
        int next = insn.IsLdImm64 ? i + 2 : i + 1;
        switch (FlowOf(insn))
        {
            case Flow.Exit:
                break;
            case Flow.Ja:
                succ.Add(insn.Class == OpClass.Jmp32 ? i + insn.Imm + 1 : i + insn.Offset + 1);
                break;
            case Flow.Cond:
                succ.Add(next);
                succ.Add(i + insn.Offset + 1);
                break;
            default:
                succ.Add(next);
                break;
        }
    }

    private static ushort LiveAt(ushort[] live, int i) => (uint)i < (uint)live.Length ? live[i] : (ushort)0;

    private enum Flow
    {
        Next,
        Ja,
        Cond,
        Exit,
    }

    private static Flow FlowOf(Instruction insn)
    {
        if (insn.Class is not (OpClass.Jmp or OpClass.Jmp32))
        {
            return Flow.Next;
        }

        return insn.JmpOp switch
        {
            JmpOp.Ja => Flow.Ja,
            JmpOp.Exit when insn.Class == OpClass.Jmp => Flow.Exit,
            JmpOp.Call when insn.Class == OpClass.Jmp => Flow.Next,
            _ => Flow.Cond, // conditional jumps and may_goto
        };
    }

    private static ushort Bit(int r) => r is >= 0 and < 10 ? (ushort)(1 << r) : (ushort)0;

    private const ushort CallerSaved = 0x3f; // R0-R5

    private static (ushort Use, ushort Def) UseDef(ReadOnlySpan<Instruction> insns, int i, ProgramType type)
    {
        var insn = insns[i];
        int dst = insn.DstReg, src = insn.SrcReg;
        switch (insn.Class)
        {
            case OpClass.Alu:
            case OpClass.Alu64:
                if (insn.AluOp == AluOp.Mov)
                {
                    return (insn.SrcIsReg ? Bit(src) : (ushort)0, Bit(dst));
                }

                if (insn.AluOp is AluOp.Neg or AluOp.End)
                {
                    return (Bit(dst), Bit(dst));
                }

                return ((ushort)(Bit(dst) | (insn.SrcIsReg ? Bit(src) : 0)), Bit(dst));
            case OpClass.Ldx:
                return (Bit(src), Bit(dst));
            case OpClass.St:
                return (Bit(dst), 0);
            case OpClass.Stx:
                if (insn.Mode == MemMode.Atomic)
                {
                    const int Fetch = 0x01, CmpXchg = 0xf1, LoadAcq = 0x100, StoreRel = 0x110;
                    if (insn.Imm == LoadAcq)
                    {
                        return (Bit(src), Bit(dst));
                    }

                    if (insn.Imm == StoreRel)
                    {
                        return ((ushort)(Bit(dst) | Bit(src)), 0);
                    }

                    if (insn.Imm == CmpXchg)
                    {
                        return ((ushort)(Bit(dst) | Bit(src) | 1), 1);
                    }

                    return ((ushort)(Bit(dst) | Bit(src)), (insn.Imm & Fetch) != 0 ? Bit(src) : (ushort)0);
                }

                return ((ushort)(Bit(dst) | Bit(src)), 0);
            case OpClass.Ld:
                if (insn.IsLdImm64)
                {
                    return (0, Bit(dst));
                }

                // LD_ABS / LD_IND: read R6 (and src), clobber R0-R5.
                return ((ushort)(Bit(6) | (insn.Mode == MemMode.Ind ? Bit(src) : 0)), CallerSaved);
            default:
                switch (insn.JmpOp)
                {
                    case JmpOp.Ja:
                        return (0, 0);
                    case JmpOp.Exit:
                        return (1, 0);
                    case JmpOp.Call when insn.Class == OpClass.Jmp:
                    {
                        int nargs = 5;
                        if (insn.SrcReg == 0 && HelperProtos.GetProto(type, insn.Imm) is { } proto)
                        {
                            nargs = proto.ArgCount;
                        }
                        else if (insn.SrcReg == 2)
                        {
                            nargs = KfuncProtos.ArgCount((KfuncId)insn.Imm);
                        }

                        ushort u = 0;
                        for (int a = 1; a <= nargs; a++)
                        {
                            u |= Bit(a);
                        }

                        return (u, CallerSaved);
                    }

                    default:
                        if (insn.Opcode == 0xe5)
                        {
                            return (0, 0);
                        }

                        return ((ushort)(Bit(dst) | (insn.SrcIsReg ? Bit(src) : 0)), 0);
                }
        }
    }
}
