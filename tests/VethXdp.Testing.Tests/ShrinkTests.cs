using System.Net;
using VethXdp.Testing.Model;
using VethXdp.Vm.Runtime;

namespace VethXdp.Testing.Tests;

/// <summary>The shrinker: candidates stay in the spec, shrinking ends, and it reaches the smallest, simplest frame.</summary>
public class ShrinkTests
{
    // FsCheck's loop: take the first candidate that still fails, until none does.
    private static Frame Shrink(FrameSpec spec, Frame frame, Func<Frame, bool> fails, out int steps)
    {
        steps = 0;
        while (spec.Shrink(frame).FirstOrDefault(fails) is { } next)
        {
            frame = next;
            Assert.True(++steps < 10_000, "shrinking did not end");
        }

        return frame;
    }

    [Fact]
    public void Shrink_AlwaysFailing_EndsAtABareEthernetHeader()
    {
        var spec = Frames.Spec();
        foreach (var frame in spec.Sample(200, seed: 21))
        {
            var smallest = Shrink(spec, frame, _ => true, out _);
            Assert.Equal(Frames.MinLength, smallest.Length);
            Assert.Equal(new byte[14].AsSpan(0, 12).ToArray(), smallest.Render()[..12]);
        }
    }

    [Fact]
    public void Shrink_Candidates_StayInTheSpecAndAtLeast14Bytes()
    {
        var spec = Frames.Spec().Ipv4().Tcp(dstPorts: 20..25).Malformed(0.5);
        foreach (var frame in spec.Sample(100, seed: 22))
        {
            foreach (var c in spec.Shrink(frame))
            {
                Assert.True(c.Length >= Frames.MinLength);
                Assert.True(spec.Admits(c), c.ToString());
                Assert.InRange(c.Find<TcpHeader>()!.DestinationPort, 20, 24);
            }
        }
    }

    [Fact]
    public void Shrink_TcpTo22BehindVlan_KeepsOnlyWhatTheFailureNeeds()
    {
        var spec = Frames.Spec().Vlan().Ipv4().Tcp(dstPorts: 22);
        var frame = spec.WellFormed().Generate(seed: 5, size: 100);
        bool Fails(Frame f) => f.Headers is [EthernetHeader, VlanTag, Ipv4Header, TcpHeader { DestinationPort: 22 }, ..];
        Assert.True(Fails(frame));
        var smallest = Shrink(spec.WellFormed(), frame, Fails, out int steps);
        Assert.True(steps > 0);
        Assert.Equal(Frame.Of(new EthernetHeader(default, default), new VlanTag(0), new Ipv4Header { Ttl = 0 }, new TcpHeader { DestinationPort = 22 }), smallest);
        Assert.Equal(14 + 4 + 20 + 20, smallest.Length);
    }

    [Fact]
    public void Shrink_EndsRightAfterIpv4_ReachesThe34ByteFrame()
    {
        var spec = Frames.Spec();
        var big = new Frame(
            [
                new EthernetHeader(MacAddress.Parse("02:00:00:00:00:01"), MacAddress.Parse("02:00:00:00:00:02")),
                new Ipv4Header
                {
                    Source = IPAddress.Parse("10.0.0.1"),
                    Destination = IPAddress.Parse("10.0.0.2"),
                    Options = [HeaderOption.NoOperation, new HeaderOption(0x07, new byte[7])],
                    Id = 77,
                },
                new TcpHeader { SourcePort = 1234, DestinationPort = 80, Options = [new HeaderOption(2, new byte[] { 5, 0xb4 })] },
            ],
            new byte[40],
            new FrameCut(2, 0));
        static bool Fails(Frame f)
        {
            var b = f.Render();
            return b.Length >= 34 && b[12] == 0x08 && b[13] == 0 && b.Length == 14 + ((b[14] & 0xf) * 4) && b[23] == 6;
        }

        Assert.True(Fails(big));
        var smallest = Shrink(spec, big, Fails, out _);
        Assert.Equal(34, smallest.Length);
        Assert.Empty(smallest.Find<Ipv4Header>()!.Options);
        Assert.Contains(smallest.Malformations, m => m.Kind == MalformationKind.Truncated);
    }

    [Fact]
    public void Shrink_Overrides_DroppedWhenTheFailureAllows()
    {
        var frame = Frame.Of(new EthernetHeader(default, default), new Ipv4Header { TotalLength = 9000, Version = 6, Checksum = 1 }, new UdpHeader { DatagramLength = 3 });
        var smallest = Shrink(Frames.Spec().WellFormed(), frame, f => f.Find<UdpHeader>() is not null, out _);
        Assert.False(smallest.IsMalformed, smallest.ToString());
    }

    [Fact]
    public void Shrink_WellFormedSpec_NeverCutsTheFrame()
    {
        var spec = Frames.Spec().WellFormed();
        foreach (var frame in spec.Sample(50, seed: 23))
        {
            Assert.DoesNotContain(spec.Shrink(frame), c => c.IsMalformed);
        }
    }

    [Fact]
    public void Shrink_NoCandidate_IsLonger()
    {
        var spec = Frames.Spec().Malformed(0.5);
        foreach (var frame in spec.Sample(100, seed: 24))
        {
            Assert.All(spec.Shrink(frame), c => Assert.True(c.Length <= frame.Length, $"{c}\nfrom\n{frame}"));
        }
    }

    [Fact]
    public void Shrink_RawBytes_ShortenToFourteenZeros()
    {
        var spec = Frames.Spec();
        var frame = Frame.Raw(Enumerable.Range(1, 90).Select(i => (byte)i).ToArray());
        var smallest = Shrink(spec, frame, f => true, out _);
        Assert.Equal(new byte[14], smallest.Render());
    }
}
