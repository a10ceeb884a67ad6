using System.Net;
using VethXdp.Testing.Model;
using VethXdp.Vm.Runtime;

namespace VethXdp.Testing.Tests;

/// <summary>How frames read: one line per header as written, defects, PacketDotNet's decoding, a hex dump.</summary>
public class FrameFormatterTests
{
    private static readonly Frame s_tcp = Frame.Of(
        new EthernetHeader(MacAddress.Parse("02:00:00:00:00:02"), MacAddress.Parse("02:00:00:00:00:01")),
        new Ipv4Header { Source = IPAddress.Parse("10.0.0.1"), Destination = IPAddress.Parse("10.0.0.2"), Id = 1 },
        new TcpHeader { SourcePort = 1024, DestinationPort = 22, Flags = TcpFlags.Syn });

    [Fact]
    public void Describe_WellFormedTcp_OneLinePerHeader()
    {
        var lines = s_tcp.Describe(includeHex: false).Split('\n');
        Assert.Equal("frame of 54 bytes", lines[0]);
        Assert.Equal("  Ethernet     02:00:00:00:00:01 > 02:00:00:00:00:02  type 0x0800 (IPv4)", lines[1]);
        Assert.StartsWith("  IPv4         10.0.0.1 > 10.0.0.2  ihl 5  len 40  id 1  ttl 64  proto 6 (TCP)  csum 0x", lines[2], StringComparison.Ordinal);
        Assert.StartsWith("  TCP          1024 > 22  flags S  seq 0 ack 0  win 0  doff 5  csum 0x", lines[3], StringComparison.Ordinal);
        Assert.Equal(4, lines.Length);
    }

    [Fact]
    public void Describe_Malformed_ShowsTheWrittenFieldsAndTheDefects()
    {
        var bad = s_tcp with { Headers = [s_tcp.Headers[0], ((Ipv4Header)s_tcp.Headers[1]) with { Ihl = 3, Version = 6 }, s_tcp.Headers[2]], Cut = new FrameCut(2, 4) };
        string text = bad.Describe(includeHex: false);
        Assert.Contains("version 6  ihl 3", text, StringComparison.Ordinal);
        Assert.Contains("[cut: 4 of 20 bytes in the frame]", text, StringComparison.Ordinal);
        Assert.Contains("Truncated: ends 4 bytes into the TCP (38 of 54 bytes)", text, StringComparison.Ordinal);
        Assert.Contains("WrongIpVersion: IPv4 header with version 6", text, StringComparison.Ordinal);
        Assert.Contains("IhlBelowFive: IHL 3", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Hex_SixteenBytesALine()
    {
        string hex = FrameFormatter.Hex(Enumerable.Range(0, 20).Select(i => (byte)i).ToArray());
        Assert.Equal("0000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f" + Environment.NewLine + "0010  10 11 12 13", hex);
    }

    [Fact]
    public void Decode_Tcp_PacketDotNetLine()
    {
        Assert.Contains("[TCPPacket: SourcePort=1024, DestinationPort=22", FrameFormatter.Decode(s_tcp.Render()), StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_Truncated_SaysWhy()
    {
        Assert.StartsWith("(PacketDotNet cannot decode it", FrameFormatter.Decode(s_tcp.Render().AsSpan(0, 30)), StringComparison.Ordinal);
    }

    [Fact]
    public void Report_HasLinesDecodingAndHex()
    {
        string text = FrameFormatter.Report(s_tcp);
        Assert.Contains("  decoded      [EthernetPacket:", text, StringComparison.Ordinal);
        Assert.Contains("  0030  ", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_ChecksumOverride_Written()
    {
        var frame = s_tcp with { Headers = [s_tcp.Headers[0], ((Ipv4Header)s_tcp.Headers[1]) with { Checksum = 0xbeef }, s_tcp.Headers[2]] };
        var b = frame.Render();
        Assert.Equal(0xbe, b[24]);
        Assert.Equal(0xef, b[25]);
        Assert.Contains(frame.Malformations, m => m.Kind == MalformationKind.BadChecksum);
    }
}
