using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using VethXdp.Verifier.Domains;
using VethXdp.Vm.Isa;

namespace VethXdp.Verifier.Tests.Domains;

/// <summary>Soundness of the range refinement, the ALU transfer functions and the branch refinement: concrete
/// values drawn from the abstract inputs give concrete results inside the abstract outputs.</summary>
public class ScalarPropertyTests
{
    private static readonly Arbitrary<AbstractScalar> s_s = DomainGens.Scalar.ToArbitrary();

    [Property(MaxTest = 1000)]
    public Property Generator_Members_InsideSyncedBounds() =>
        Prop.ForAll(s_s, a => (a.Members.All(a.B.Contains) && a.B.CheckSanity("gen") is null).Label(a.ToString()));

    [Property(MaxTest = 1000)]
    public Property Sync_AnyPartialState_KeepsMembersAndIsSane() =>
        Prop.ForAll(s_s, DomainGens.U64.Two().ToArbitrary(), (a, e) =>
        {
            // a state that only knows part of what the members tell (one view each), then synced
            var b = ScalarBounds.Unknown;
            switch ((int)(e.Item1 % 5))
            {
                case 0: b.UMin = a.B.UMin; b.UMax = a.B.UMax; break;
                case 1: b.SMin = a.B.SMin; b.SMax = a.B.SMax; break;
                case 2: b.U32Min = a.B.U32Min; b.U32Max = a.B.U32Max; break;
                case 3: b.S32Min = a.B.S32Min; b.S32Max = a.B.S32Max; break;
                default: b.VarOff = a.B.VarOff; break;
            }

            var before = b;
            b.Sync();
            var again = b;
            again.Sync();
            return (a.Members.All(b.Contains) && b.CheckSanity("sync") is null && a.Members.All(again.Contains))
                .Label($"{before} -> {b}: {b.CheckSanity("sync")}");
        });

    private static Property AluSound(AluOp op) =>
        Prop.ForAll(DomainGens.AluInsn(op).ToArbitrary(), s_s, s_s, (insn, dst, src) =>
        {
            bool unary = op is AluOp.Neg or AluOp.End;
            var srcState = unary ? dst.B : insn.SrcIsReg ? src.B : ScalarBounds.ImmOperand(insn);
            ulong[] srcMembers = unary ? [0] : insn.SrcIsReg ? src.Members : [(ulong)(long)insn.Imm];
            var r = dst.B;
            if (op == AluOp.Mov)
            {
                ScalarBounds.Mov(ref r, in srcState, insn);
                dst = dst with { Members = [0] };
            }
            else
            {
                ScalarBounds.Alu(ref r, srcState, insn);
            }

            foreach (ulong x in dst.Members)
            {
                foreach (ulong y in srcMembers)
                {
                    ulong c = DomainGens.ConcreteAlu(insn, x, y);
                    if (!r.Contains(c))
                    {
                        return false.Label($"{insn}: dst={dst.B} src={srcState} x=0x{x:x} y=0x{y:x} -> 0x{c:x} not in {r}");
                    }
                }
            }

            string? bug = r.CheckSanity("alu");
            return (bug is null).Label($"{insn}: dst={dst.B} src={srcState}: {bug}");
        });

    [Property(MaxTest = 1000)]
    public Property Add_ConcreteResult_InOutput() => AluSound(AluOp.Add);

    [Property(MaxTest = 1000)]
    public Property Sub_ConcreteResult_InOutput() => AluSound(AluOp.Sub);

    [Property(MaxTest = 1000)]
    public Property Mul_ConcreteResult_InOutput() => AluSound(AluOp.Mul);

    [Property(MaxTest = 1000)]
    public Property Div_ConcreteResult_InOutput() => AluSound(AluOp.Div);

    [Property(MaxTest = 1000)]
    public Property Mod_ConcreteResult_InOutput() => AluSound(AluOp.Mod);

    [Property(MaxTest = 1000)]
    public Property And_ConcreteResult_InOutput() => AluSound(AluOp.And);

    [Property(MaxTest = 1000)]
    public Property Or_ConcreteResult_InOutput() => AluSound(AluOp.Or);

    [Property(MaxTest = 1000)]
    public Property Xor_ConcreteResult_InOutput() => AluSound(AluOp.Xor);

    [Property(MaxTest = 1000)]
    public Property Lsh_ConcreteResult_InOutput() => AluSound(AluOp.Lsh);

    [Property(MaxTest = 1000)]
    public Property Rsh_ConcreteResult_InOutput() => AluSound(AluOp.Rsh);

    [Property(MaxTest = 1000)]
    public Property Arsh_ConcreteResult_InOutput() => AluSound(AluOp.Arsh);

    [Property(MaxTest = 1000)]
    public Property Neg_ConcreteResult_InOutput() => AluSound(AluOp.Neg);

    [Property(MaxTest = 1000)]
    public Property End_ConcreteResult_InOutput() => AluSound(AluOp.End);

    [Property(MaxTest = 1000)]
    public Property Mov_ConcreteResult_InOutput() =>
        Prop.ForAll(DomainGens.AluInsn(AluOp.Mov).ToArbitrary(), s_s, (insn, src) =>
        {
            var srcState = insn.SrcIsReg ? src.B : ScalarBounds.ImmOperand(insn);
            ulong[] members = insn.SrcIsReg ? src.Members : [(ulong)(long)insn.Imm];
            var r = ScalarBounds.Unknown;
            ScalarBounds.Mov(ref r, in srcState, insn);
            return (members.All(y => r.Contains(DomainGens.ConcreteAlu(insn, 0, y))) && r.CheckSanity("mov") is null)
                .Label($"{insn}: {srcState} -> {r}");
        });

    [Property(MaxTest = 1000)]
    public Property CoerceToSize_Members_Truncated() =>
        Prop.ForAll(s_s, Gen.Elements(1, 2, 4).ToArbitrary(), (a, size) =>
        {
            ulong keep = (1UL << (size * 8)) - 1;
            var zx = a.B;
            zx.CoerceToSize(size);
            var sx = a.B;
            sx.CoerceToSizeSx(size);
            var sx32 = a.B;
            sx32.CoerceSubregToSizeSx(size == 4 ? 2 : size);
            int s32 = size == 4 ? 2 : size;
            return a.Members.All(x =>
                zx.Contains(x & keep) &&
                sx.Contains(size == 1 ? (ulong)(long)(sbyte)x : size == 2 ? (ulong)(long)(short)x : (ulong)(long)(int)x) &&
                sx32.Contains32(s32 == 1 ? (uint)(int)(sbyte)x : (uint)(int)(short)x)).Label($"{a} zx={zx} sx={sx} sx32={sx32}");
        });

    [Property(MaxTest = 1000)]
    public Property SignMaskFork_BothHalves_CoverTheState() =>
        Prop.ForAll(s_s, a =>
        {
            var b = a.B;
            if (!ScalarBounds.IsSignMaskFork(b, out bool alu32))
            {
                return true.ToProperty();
            }

            var ones = b;
            var zero = ScalarBounds.SplitSignMask(ref ones, alu32);
            return a.Members.All(x => (alu32 ? ones.Contains32((uint)x) || zero.Contains32((uint)x) : ones.Contains(x) || zero.Contains(x)))
                .Label($"{a.B}: ones={ones} zero={zero}");
        });

    private static readonly JmpOp[] s_cmp =
    [
        JmpOp.Jeq, JmpOp.Jne, JmpOp.Jgt, JmpOp.Jge, JmpOp.Jlt, JmpOp.Jle, JmpOp.Jsgt, JmpOp.Jsge, JmpOp.Jslt, JmpOp.Jsle,
        JmpOp.Jset,
    ];

    private static Property BranchSound(JmpOp op) =>
        Prop.ForAll(s_s, s_s, Gen.Elements(true, false).Two().Zip(DomainGens.U64).ToArbitrary(),
            (r1, r2, flagsImm) =>
            {
                var ((is32, useImm), immBits) = flagsImm;
                var reg2 = r2;
                if (useImm)
                {
                    // BPF_K: the imm sign-extended, as check_cond_jmp_op's fake register
                    var k = new Instruction((byte)(0x05 | (byte)op), Register.R1, Register.R0, 0, (int)immBits);
                    reg2 = new AbstractScalar(ScalarBounds.ImmOperand(k), [(ulong)(long)(int)immBits]);
                }

                var outcome = ScalarBounds.IsBranchTaken(r1.B, reg2.B, op, is32);
                var s = ScalarBounds.Branch(r1.B, reg2.B, op, is32);
                bool anyTrue = false, anyFalse = false;
                foreach (ulong x in r1.Members)
                {
                    foreach (ulong y in reg2.Members)
                    {
                        bool taken = DomainGens.ConcreteJmp(op, is32, x, y);
                        string ctx = $"{op}{(is32 ? "32" : "")} r1={r1.B} r2={reg2.B} x=0x{x:x} y=0x{y:x} taken={taken}";
                        if (taken)
                        {
                            anyTrue = true;
                            if (outcome == BranchOutcome.Never)
                            {
                                return false.Label($"claimed never: {ctx}");
                            }

                            if (!s.TrueReg1.Contains(x) || !s.TrueReg2.Contains(y))
                            {
                                return false.Label($"true edge lost the pair: {ctx} -> {s.TrueReg1} / {s.TrueReg2}");
                            }
                        }
                        else
                        {
                            anyFalse = true;
                            if (outcome == BranchOutcome.Always)
                            {
                                return false.Label($"claimed always: {ctx}");
                            }

                            if (!s.FalseReg1.Contains(x) || !s.FalseReg2.Contains(y))
                            {
                                return false.Label($"false edge lost the pair: {ctx} -> {s.FalseReg1} / {s.FalseReg2}");
                            }
                        }
                    }
                }

                // an edge that a concrete pair takes must not trip the kernel's invariant check
                string? bug = s.InvariantViolation;
                bool bugOnLiveEdge = bug is not null &&
                                     ((anyTrue && bug.Contains("(true_", StringComparison.Ordinal)) ||
                                      (anyFalse && bug.Contains("(false_", StringComparison.Ordinal)));
                return (!bugOnLiveEdge).Label($"{op}{(is32 ? "32" : "")} r1={r1.B} r2={reg2.B}: {bug}");
            });

    [Property(MaxTest = 1000)]
    public Property Jeq_PairsOnTheirEdge() => BranchSound(JmpOp.Jeq);

    [Property(MaxTest = 1000)]
    public Property Jne_PairsOnTheirEdge() => BranchSound(JmpOp.Jne);

    [Property(MaxTest = 1000)]
    public Property Jgt_PairsOnTheirEdge() => BranchSound(JmpOp.Jgt);

    [Property(MaxTest = 1000)]
    public Property Jge_PairsOnTheirEdge() => BranchSound(JmpOp.Jge);

    [Property(MaxTest = 1000)]
    public Property Jlt_PairsOnTheirEdge() => BranchSound(JmpOp.Jlt);

    [Property(MaxTest = 1000)]
    public Property Jle_PairsOnTheirEdge() => BranchSound(JmpOp.Jle);

    [Property(MaxTest = 1000)]
    public Property Jsgt_PairsOnTheirEdge() => BranchSound(JmpOp.Jsgt);

    [Property(MaxTest = 1000)]
    public Property Jsge_PairsOnTheirEdge() => BranchSound(JmpOp.Jsge);

    [Property(MaxTest = 1000)]
    public Property Jslt_PairsOnTheirEdge() => BranchSound(JmpOp.Jslt);

    [Property(MaxTest = 1000)]
    public Property Jsle_PairsOnTheirEdge() => BranchSound(JmpOp.Jsle);

    [Property(MaxTest = 1000)]
    public Property Jset_PairsOnTheirEdge() => BranchSound(JmpOp.Jset);

    [Property(MaxTest = 1000)]
    public Property SameRegister_DecisionMatchesConcrete() =>
        Prop.ForAll(s_s, Gen.Elements(s_cmp).ToArbitrary(), Gen.Elements(true, false).ToArbitrary(), (r, op, is32) =>
        {
            var outcome = ScalarBounds.IsBranchTaken(r.B, r.B, op, is32, sameReg: true);
            return r.Members.All(x =>
            {
                bool taken = DomainGens.ConcreteJmp(op, is32, x, x);
                return outcome == BranchOutcome.Unknown || (outcome == BranchOutcome.Always) == taken;
            }).Label($"{op} {r} -> {outcome}");
        });
}
