using FsCheck;
using FsCheck.Fluent;
using VethXdp.Testing.Generation;
using VethXdp.Testing.Model;

namespace VethXdp.Testing;

/// <summary>What frames to generate: a small fluent, immutable description. Start from <see cref="Frames.Spec"/>; each
/// call returns a new spec. <c>Frames.Spec().Ipv4().Tcp(dstPorts: 20..25).Malformed(0.1)</c> generates IPv4 TCP frames
/// to ports 20 to 24, one in ten of them malformed.</summary>
/// <remarks>
/// <para>Layer choices add up: <c>.Ipv4().Ipv6()</c> allows both; with none, every kind is allowed with its weight
/// (<see cref="FrameWeights"/>). Constraints describe the frame's innermost stack; once you state any layer 3 or 4
/// constraint tunnels are off, unless you turn them on (<see cref="Tunnels"/>, <see cref="Gre"/>, ...). VLAN tags follow
/// their weights unless you choose (<see cref="Untagged"/>, <see cref="Vlan"/>, <see cref="QinQ"/>).</para>
/// <para>A malformed frame starts as a frame of the spec and gets one defect of the allowed kinds; raw random bytes
/// (<see cref="MalformationKind.RandomBytes"/>) are only generated when no layer is constrained or you name that kind.
/// Shrinking keeps every constraint: a shrunk counterexample is still a frame of the spec.</para>
/// </remarks>
public sealed record FrameSpec
{
    /// <summary>The favourite ports when none are given: the ones programs test for.</summary>
    public static IReadOnlyList<ushort> DefaultFavouritePorts { get; } = [0, 7, 22, 53, 67, 68, 80, 123, 443, 1024, 4789, 8080, 65535];

    // (declared after DefaultFavouritePorts: static initialisers run in order)
    /// <summary>Everything, with the default weights; one frame in five malformed.</summary>
    public static FrameSpec Default { get; } = new();

    internal FrameWeights WeightsValue { get; init; } = FrameWeights.Default;

    internal L3Kinds? L3 { get; init; }

    internal L4Kinds? L4 { get; init; }

    internal TagKinds? Tags { get; init; }

    internal TunnelKinds? TunnelChoice { get; init; }

    internal Ports? TcpSource { get; init; }

    internal Ports? TcpDestination { get; init; }

    internal Ports? UdpSource { get; init; }

    internal Ports? UdpDestination { get; init; }

    internal int PayloadMin { get; init; }

    internal int PayloadMax { get; init; } = 128;

    internal double MalformedProbability { get; init; } = 0.2;

    internal IReadOnlyList<MalformationKind>? Kinds { get; init; }

    internal Func<Frame, bool>? Filter { get; init; }

    internal IReadOnlyList<ushort> FavouritePorts { get; init; } = DefaultFavouritePorts;

    /// <summary>Allows IPv4 after the link layer.</summary>
    public FrameSpec Ipv4() => this with { L3 = (L3 ?? L3Kinds.None) | L3Kinds.Ipv4 };

    /// <summary>Allows IPv6 after the link layer.</summary>
    public FrameSpec Ipv6() => this with { L3 = (L3 ?? L3Kinds.None) | L3Kinds.Ipv6 };

    /// <summary>Allows ARP.</summary>
    public FrameSpec Arp() => this with { L3 = (L3 ?? L3Kinds.None) | L3Kinds.Arp };

    /// <summary>Allows other EtherTypes (raw payload after the link layer).</summary>
    public FrameSpec OtherEtherTypes() => this with { L3 = (L3 ?? L3Kinds.None) | L3Kinds.Other };

    /// <summary>Allows TCP, with source and destination ports in the given ranges (any when null).</summary>
    public FrameSpec Tcp(Ports? srcPorts = null, Ports? dstPorts = null) =>
        this with { L4 = (L4 ?? L4Kinds.None) | L4Kinds.Tcp, TcpSource = srcPorts ?? TcpSource, TcpDestination = dstPorts ?? TcpDestination };

    /// <summary>Allows UDP, with source and destination ports in the given ranges (any when null).</summary>
    public FrameSpec Udp(Ports? srcPorts = null, Ports? dstPorts = null) =>
        this with { L4 = (L4 ?? L4Kinds.None) | L4Kinds.Udp, UdpSource = srcPorts ?? UdpSource, UdpDestination = dstPorts ?? UdpDestination };

    /// <summary>Allows ICMP (over IPv4) and ICMPv6 (over IPv6).</summary>
    public FrameSpec Icmp() => this with { L4 = (L4 ?? L4Kinds.None) | L4Kinds.Icmp };

    /// <summary>Allows other IP protocols (raw payload after the IP header, and non-first fragments).</summary>
    public FrameSpec OtherProtocols() => this with { L4 = (L4 ?? L4Kinds.None) | L4Kinds.Other };

    /// <summary>Allows frames without VLAN tags.</summary>
    public FrameSpec Untagged() => this with { Tags = (Tags ?? TagKinds.None) | TagKinds.Untagged };

    /// <summary>Allows one 802.1Q tag.</summary>
    public FrameSpec Vlan() => this with { Tags = (Tags ?? TagKinds.None) | TagKinds.Vlan };

    /// <summary>Allows QinQ (802.1ad then 802.1Q).</summary>
    public FrameSpec QinQ() => this with { Tags = (Tags ?? TagKinds.None) | TagKinds.QinQ };

    /// <summary>Allows every tunnel (GRE, IPIP, VXLAN), with their weights.</summary>
    public FrameSpec Tunnels() => this with { TunnelChoice = (TunnelChoice ?? TunnelKinds.None) | TunnelKinds.All };

    /// <summary>Allows GRE.</summary>
    public FrameSpec Gre() => this with { TunnelChoice = (TunnelChoice ?? TunnelKinds.None) | TunnelKinds.Gre };

    /// <summary>Allows IP in IP.</summary>
    public FrameSpec Ipip() => this with { TunnelChoice = (TunnelChoice ?? TunnelKinds.None) | TunnelKinds.Ipip };

    /// <summary>Allows VXLAN.</summary>
    public FrameSpec Vxlan() => this with { TunnelChoice = (TunnelChoice ?? TunnelKinds.None) | TunnelKinds.Vxlan };

    /// <summary>No tunnels.</summary>
    public FrameSpec NoTunnels() => this with { TunnelChoice = TunnelKinds.None };

    /// <summary>Payload lengths from <paramref name="min"/> to <paramref name="max"/> (the generator grows them with
    /// FsCheck's size: small frames come first).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative, above 9000, or min above max.</exception>
    public FrameSpec Payload(int min, int max)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(min);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(max, 9000);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(min, max);
        return this with { PayloadMin = min, PayloadMax = max };
    }

    /// <summary>Makes a frame malformed with <paramref name="probability"/>, with one of <paramref name="kinds"/> (every
    /// kind, by weight, when none are given).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The probability is not in [0, 1].</exception>
    public FrameSpec Malformed(double probability, params MalformationKind[] kinds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(probability);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(probability, 1.0);
        return this with { MalformedProbability = probability, Kinds = kinds is { Length: > 0 } ? [.. kinds] : null };
    }

    /// <summary>Only well-formed frames: correct lengths and checksums, nothing cut.</summary>
    public FrameSpec WellFormed() => this with { MalformedProbability = 0, Kinds = null };

    /// <summary>Changes the weights: <c>.Weights(w =&gt; w with { Vlan = 0 })</c>.</summary>
    public FrameSpec Weights(Func<FrameWeights, FrameWeights> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        return this with { WeightsValue = change(WeightsValue) };
    }

    /// <summary>Ports the generator picks more often than others (<see cref="FrameWeights.FavouritePortPercent"/>).</summary>
    public FrameSpec FavourPorts(params int[] ports)
    {
        ArgumentNullException.ThrowIfNull(ports);
        var list = new List<ushort>(FavouritePorts);
        foreach (int p in ports)
        {
            list.Add(Ports.FromInt32(p).Low);
        }

        return this with { FavouritePorts = list };
    }

    /// <summary>Keeps only frames for which <paramref name="predicate"/> holds, when generating and when shrinking.</summary>
    public FrameSpec Where(Func<Frame, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        var previous = Filter;
        return this with { Filter = previous is null ? predicate : f => previous(f) && predicate(f) };
    }

    /// <summary>The frame this spec generates from <paramref name="seed"/> at FsCheck size <paramref name="size"/>
    /// (0-100: payloads and option lists grow with it). The same seed always gives the same frame.</summary>
    public Frame Generate(ulong seed, int size = 50) => new FrameGenerator(this, new FrameRandom(seed), size).Generate();

    /// <summary><paramref name="count"/> frames from seeds derived from <paramref name="seed"/>, with sizes growing from 0
    /// to 100 as FsCheck's do.</summary>
    public IReadOnlyList<Frame> Sample(int count, ulong seed = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var seeds = new FrameRandom(seed);
        var frames = new Frame[count];
        for (int i = 0; i < count; i++)
        {
            frames[i] = Generate(seeds.NextULong(), count <= 1 ? 50 : i * 100 / (count - 1));
        }

        return frames;
    }

    /// <summary>The FsCheck generator (no shrinking: see <see cref="ToArbitrary"/>).</summary>
    public Gen<Frame> ToGen() =>
        Gen.Sized(size => Gen.Choose(0, int.MaxValue).Two().Select(t => Generate(((ulong)(uint)t.Item1 << 32) | (uint)t.Item2, size)));

    /// <summary>The FsCheck arbitrary: this spec's generator and the frame shrinker (<see cref="Shrink"/>).</summary>
    public Arbitrary<Frame> ToArbitrary() => Arb.From(ToGen(), Shrink);

    /// <summary>Simpler frames than <paramref name="frame"/> that still belong to this spec, most aggressive first: fewer
    /// headers, shorter payload, a cut closer to a boundary, fewer options, zeroed fields, overrides dropped.</summary>
    public IEnumerable<Frame> Shrink(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        foreach (var candidate in FrameShrinker.Candidates(frame))
        {
            if (Admits(candidate))
            {
                yield return candidate;
            }
        }
    }

    /// <summary>True when <paramref name="frame"/> satisfies this spec's constraints: at least 14 bytes, the allowed tags,
    /// layers and ports, no tunnel when tunnels are off, and the <see cref="Where"/> filters.</summary>
    public bool Admits(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        return frame.Length >= Frames.MinLength && FrameShape.Admits(this, frame) && (Filter is null || Filter(frame));
    }

    // ---- the effective choices ----

    internal L3Kinds EffectiveL3 => L3 ?? (L4 is null ? L3Kinds.All : L3Kinds.Ip);

    internal L4Kinds EffectiveL4 => L4 ?? L4Kinds.All;

    internal TagKinds EffectiveTags => Tags ?? TagKinds.All;

    internal TunnelKinds EffectiveTunnels => TunnelChoice ?? (L3 is null && L4 is null ? TunnelKinds.All : TunnelKinds.None);

    internal bool IsConstrained => L3 is not null || L4 is not null;

    /// <summary>The weight of each malformation kind this spec may generate.</summary>
    internal int MalformationWeight(MalformationKind kind)
    {
        if (MalformedProbability <= 0)
        {
            return 0;
        }

        if (Kinds is not null)
        {
            bool listed = false;
            foreach (var k in Kinds)
            {
                listed |= k == kind;
            }

            return listed ? Math.Max(1, WeightsValue.Of(kind)) : 0;
        }

        return kind == MalformationKind.RandomBytes && IsConstrained ? 0 : WeightsValue.Of(kind);
    }
}
