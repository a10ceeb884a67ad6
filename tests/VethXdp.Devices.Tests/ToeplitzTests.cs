using System.Net;
using VethXdp.Devices.Nic;

namespace VethXdp.Devices.Tests;

// The published verification values of Microsoft's "Verifying the RSS Hash Calculation" (default 40-byte key).
public class ToeplitzTests
{
    [Theory]
    [InlineData("66.9.149.187", 2794, "161.142.100.80", 1766, 0x323e8fc2u, 0x51ccc178u)]
    [InlineData("199.92.111.2", 14230, "65.69.140.83", 4739, 0xd718262au, 0xc626b0eau)]
    [InlineData("24.19.198.95", 12898, "12.22.207.184", 38024, 0xd2d0a5deu, 0x5c2b394au)]
    [InlineData("38.27.205.30", 48228, "209.142.163.6", 2217, 0x82989176u, 0xafc7327fu)]
    [InlineData("153.39.163.191", 44251, "202.188.127.2", 1303, 0x5d1809c5u, 0x10e828a2u)]
    [InlineData("3ffe:2501:200:1fff::7", 2794, "3ffe:2501:200:3::1", 1766, 0x2cc18cd5u, 0x40207d3du)]
    [InlineData("3ffe:501:8::260:97ff:fe40:efab", 14230, "ff02::1", 4739, 0x0f0c461cu, 0xdde51bbfu)]
    [InlineData("3ffe:1900:4545:3:200:f8ff:fe21:67cf", 44251, "fe80::200:f8ff:fe21:67cf", 38024, 0x4b61e985u, 0x02d1feefu)]
    public void Hash_VerificationSuite_MatchesPublishedValues(string src, int sport, string dst, int dport, uint addrOnly, uint withPorts)
    {
        var s = IPAddress.Parse(src).GetAddressBytes();
        var d = IPAddress.Parse(dst).GetAddressBytes();
        var input = s.Concat(d).ToArray();
        Assert.Equal(addrOnly, Toeplitz.Hash(Toeplitz.DefaultKey, input));
        var ports = new byte[] { (byte)(sport >> 8), (byte)sport, (byte)(dport >> 8), (byte)dport };
        Assert.Equal(withPorts, Toeplitz.Hash(Toeplitz.DefaultKey, input.Concat(ports).ToArray()));
    }

    [Fact]
    public void HashInput_UdpIpv4Frame_IsAddressesThenPorts()
    {
        var frame = new byte[64];
        frame[12] = 0x08;
        frame[14] = 0x45;
        frame[23] = 17;
        new byte[] { 66, 9, 149, 187 }.CopyTo(frame, 26);
        new byte[] { 161, 142, 100, 80 }.CopyTo(frame, 30);
        frame[34] = 2794 >> 8;
        frame[35] = 2794 & 0xff;
        frame[36] = 1766 >> 8;
        frame[37] = 1766 & 0xff;
        Span<byte> input = stackalloc byte[36];
        int n = Toeplitz.HashInput(frame, input);
        Assert.Equal(12, n);
        Assert.Equal(0x51ccc178u, Toeplitz.Hash(Toeplitz.DefaultKey, input[..n]));
        Assert.Equal((int)(0x51ccc178u % 128) % 4, Toeplitz.Queue(Toeplitz.DefaultKey, frame, 4));
    }
}
