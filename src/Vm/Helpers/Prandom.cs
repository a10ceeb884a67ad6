namespace VethXdp.Vm.Helpers;

/// <summary>The generator behind <c>bpf_get_prandom_u32</c>: Linux's own <c>prandom_u32_state</c>, made reproducible.</summary>
/// <remarks>
/// L'Ecuyer's maximally equidistributed combined Tausworthe generator (LFSR113, period 2^113), as
/// lib/random32.c implements it, seeded as <c>prandom_seed_state(state, seed)</c> seeds it
/// (include/linux/prandom.h): i = ((seed &gt;&gt; 32) ^ (seed &lt;&lt; 10) ^ seed) truncated to 32 bits, and each
/// component s_k = i, or i + m_k when i &lt; m_k (m = 2, 8, 16, 128) so that its low bits are not all zero.
/// The kernel seeds its per-CPU states from the entropy pool; a run seeds one state from <c>--seed</c> and
/// draws from it across packets, so the same packets and seed give the same numbers.
/// </remarks>
public struct Prandom
{
    private uint _s1, _s2, _s3, _s4;

    /// <summary>A generator seeded with <paramref name="seed"/>.</summary>
    public static Prandom FromSeed(ulong seed)
    {
        var p = default(Prandom);
        p.Seed(seed);
        return p;
    }

    /// <summary>Reseeds: kernel prandom_seed_state().</summary>
    public void Seed(ulong seed)
    {
        uint i = (uint)((seed >> 32) ^ (seed << 10) ^ seed);
        _s1 = Component(i, 2);
        _s2 = Component(i, 8);
        _s3 = Component(i, 16);
        _s4 = Component(i, 128);
    }

    /// <summary>The next 32-bit value: kernel prandom_u32_state().</summary>
    public uint Next()
    {
        _s1 = Step(_s1, 6, 13, 4294967294U, 18);
        _s2 = Step(_s2, 2, 27, 4294967288U, 2);
        _s3 = Step(_s3, 13, 21, 4294967280U, 7);
        _s4 = Step(_s4, 3, 12, 4294967168U, 13);
        return _s1 ^ _s2 ^ _s3 ^ _s4;
    }

    // One Tausworthe component: ((s & c) << d) ^ (((s << a) ^ s) >> b).
    private static uint Step(uint s, int a, int b, uint c, int d) => ((s & c) << d) ^ (((s << a) ^ s) >> b);

    private static uint Component(uint x, uint m) => x < m ? x + m : x;
}
