using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using VethXdp.Verifier.Domains;

namespace VethXdp.Verifier.Tests.Domains;

/// <summary>Soundness of every tnum operation: concrete members of the inputs give a member of the output.</summary>
public class TnumPropertyTests
{
    private static readonly Arbitrary<AbstractTnum> s_t = DomainGens.Tnum.ToArbitrary();
    private static readonly Arbitrary<(AbstractTnum, AbstractTnum)> s_tt = DomainGens.Tnum.Two().ToArbitrary();

    private static Property Binary(Func<Tnum, Tnum, Tnum> abs, Func<ulong, ulong, ulong> conc) =>
        Prop.ForAll(s_tt, p =>
        {
            var (a, b) = p;
            var r = abs(a.T, b.T);
            foreach (ulong x in a.Members)
            {
                foreach (ulong y in b.Members)
                {
                    if (!r.Contains(conc(x, y)))
                    {
                        return false.Label($"x=0x{x:x} y=0x{y:x} r={r} concrete=0x{conc(x, y):x}");
                    }
                }
            }

            return (((r.Value & r.Mask) == 0) && ((a.T.Value & a.T.Mask) == 0)).Label($"well-formed {r}");
        });

    private static Property Unary(Func<Tnum, Tnum> abs, Func<ulong, ulong> conc) =>
        Prop.ForAll(s_t, a =>
        {
            var r = abs(a.T);
            foreach (ulong x in a.Members)
            {
                if (!r.Contains(conc(x)))
                {
                    return false.Label($"x=0x{x:x} r={r} concrete=0x{conc(x):x}");
                }
            }

            return ((r.Value & r.Mask) == 0).Label($"well-formed {r}");
        });

    [Property(MaxTest = 1000)]
    public Property Add_Members_InResult() => Binary(Tnum.Add, (x, y) => x + y);

    [Property(MaxTest = 1000)]
    public Property Sub_Members_InResult() => Binary(Tnum.Sub, (x, y) => x - y);

    [Property(MaxTest = 1000)]
    public Property Mul_Members_InResult() => Binary(Tnum.Mul, (x, y) => x * y);

    [Property(MaxTest = 1000)]
    public Property And_Members_InResult() => Binary(Tnum.And, (x, y) => x & y);

    [Property(MaxTest = 1000)]
    public Property Or_Members_InResult() => Binary(Tnum.Or, (x, y) => x | y);

    [Property(MaxTest = 1000)]
    public Property Xor_Members_InResult() => Binary(Tnum.Xor, (x, y) => x ^ y);

    [Property(MaxTest = 1000)]
    public Property Neg_Members_InResult() => Unary(Tnum.Neg, x => 0 - x);

    [Property(MaxTest = 1000)]
    public Property Shifts_Members_InResult() =>
        Prop.ForAll(s_t, Gen.Choose(0, 63).ToArbitrary(), (a, k) =>
        {
            var l = Tnum.Lshift(a.T, k);
            var r = Tnum.Rshift(a.T, k);
            var s64 = Tnum.Arshift(a.T, k, 64);
            var s32 = Tnum.Arshift(a.T, k & 31, 32);
            return a.Members.All(x =>
                l.Contains(x << k) && r.Contains(x >> k) && s64.Contains((ulong)((long)x >> k)) &&
                s32.Contains((uint)((int)(uint)x >> (k & 31))));
        });

    [Property(MaxTest = 1000)]
    public Property Intersect_CommonMembers_InResult() =>
        Prop.ForAll(s_tt, p =>
        {
            var (a, b) = p;
            var r = Tnum.Intersect(a.T, b.T);
            // every value in both inputs is in the intersection
            return a.Members.Where(b.T.Contains).Concat(b.Members.Where(a.T.Contains)).All(r.Contains);
        });

    [Property(MaxTest = 1000)]
    public Property Union_MembersOfEither_InResult() =>
        Prop.ForAll(s_tt, p =>
        {
            var (a, b) = p;
            var r = Tnum.Union(a.T, b.T);
            return a.Members.Concat(b.Members).All(r.Contains) && Tnum.In(r, a.T) && Tnum.In(r, b.T);
        });

    [Property(MaxTest = 1000)]
    public Property CastAndSubregs_Members_InResult() =>
        Prop.ForAll(s_tt, Gen.Elements(1, 2, 4, 8).ToArbitrary(), (p, size) =>
        {
            var (a, b) = p;
            ulong keep = size == 8 ? ulong.MaxValue : (1UL << (size * 8)) - 1;
            var cast = Tnum.Cast(a.T, size);
            var sub = Tnum.Subreg(a.T);
            var clear = Tnum.ClearSubreg(a.T);
            var with = Tnum.WithSubreg(a.T, b.T);
            var cs = Tnum.ConstSubreg(a.T, 0xdead_beef);
            return a.Members.All(x =>
                cast.Contains(x & keep) && sub.Contains((uint)x) && clear.Contains(x & 0xffff_ffff_0000_0000) &&
                cs.Contains((x & 0xffff_ffff_0000_0000) | 0xdead_beef) &&
                b.Members.All(y => with.Contains((x & 0xffff_ffff_0000_0000) | (uint)y)));
        });

    [Property(MaxTest = 1000)]
    public Property Bswap_Members_InResult() =>
        Unary(Tnum.Bswap16, x => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((ushort)x))
            .And(Unary(Tnum.Bswap32, x => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((uint)x)))
            .And(Unary(Tnum.Bswap64, System.Buffers.Binary.BinaryPrimitives.ReverseEndianness));

    [Property(MaxTest = 1000)]
    public Property Range_ValuesBetween_InResult() =>
        Prop.ForAll(DomainGens.U64.Three().ToArbitrary(), t =>
        {
            ulong lo = Math.Min(t.Item1, t.Item2), hi = Math.Max(t.Item1, t.Item2);
            var r = Tnum.Range(lo, hi);
            ulong mid = lo + ((hi - lo) / 2);
            ulong inside = hi == lo ? lo : lo + (t.Item3 % (hi - lo + 1 == 0 ? ulong.MaxValue : hi - lo + 1));
            return r.Contains(lo) && r.Contains(hi) && r.Contains(mid) && r.Contains(inside);
        });

    [Property(MaxTest = 1000)]
    public Property In_Subset_EveryMemberContained() =>
        Prop.ForAll(s_tt, p =>
        {
            var (a, b) = p;
            // b' = b's bits narrowed into a: if In says yes, every member of the candidate is in the container
            bool inside = Tnum.In(a.T, b.T);
            return ((!inside || b.Members.All(a.T.Contains)) && Tnum.In(a.T, a.T) && Tnum.In(Tnum.Unknown, a.T) &&
                    a.Members.All(x => Tnum.In(a.T, Tnum.Const(x)))).Label($"In({a.T}, {b.T})");
        });

    [Property(MaxTest = 1000)]
    public Property Overlap_SharedMember_IsTrue() =>
        Prop.ForAll(s_tt, p =>
        {
            var (a, b) = p;
            bool shared = a.Members.Any(b.T.Contains) || b.Members.Any(a.T.Contains);
            return !shared || Tnum.Overlap(a.T, b.T);
        });

    [Property(MaxTest = 1000)]
    public Property IsAligned_True_EveryMemberAligned() =>
        Prop.ForAll(s_t, Gen.Choose(0, 6).ToArbitrary(), (a, k) =>
        {
            ulong size = 1UL << k;
            return !Tnum.IsAligned(a.T, size) || a.Members.All(x => x % size == 0);
        });

    [Property(MaxTest = 1000)]
    public Property Step_SmallMask_IsSmallestMemberAbove() =>
        Prop.ForAll(DomainGens.U64.Two().ToArbitrary(), Gen.Choose(0, 0xfff).Zip(Gen.Choose(0, 4)).ToArbitrary(),
            (vz, ms) =>
            {
                var (value, z0) = vz;
                var (mask12, shift) = ms;
                // brute force over the <= 4096 members of a tnum whose unknown bits are 12 bits spread by `shift`
                ulong mask = 0;
                for (int i = 0; i < 12; i++)
                {
                    if ((mask12 & (1 << i)) != 0)
                    {
                        mask |= 1UL << (i * (shift + 1));
                    }
                }

                var t = new Tnum(value & ~mask, mask);
                var members = new List<ulong>();
                for (ulong s = 0; ; s = (s - mask) & mask)
                {
                    members.Add(t.Value | s);
                    if (((s - mask) & mask) == 0)
                    {
                        break;
                    }
                }

                members.Sort();
                // z inside [min, max) (the documented domain) or anywhere
                ulong z = (z0 & 1) == 0 ? z0 : members[0] + (z0 % Math.Max(1, t.Max - members[0]));
                ulong expected = z >= t.Max ? t.Max : members.First(m => m > z);
                return (Tnum.Step(t, z) == expected).Label($"t={t} z=0x{z:x} step=0x{Tnum.Step(t, z):x} expected=0x{expected:x}");
            });

    [Property(MaxTest = 1000)]
    public Property ToString_KernelVarOffText() =>
        Prop.ForAll(s_t, a => a.T.ToString() == $"(0x{a.T.Value:x}; 0x{a.T.Mask:x})" && a.T.ToBinaryString().Length == 64);
}
