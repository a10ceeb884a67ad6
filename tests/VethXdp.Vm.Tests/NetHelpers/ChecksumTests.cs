using System.Buffers.Binary;
using VethXdp.Vm.Helpers;

namespace VethXdp.Vm.Tests.NetHelpers;

/// <summary>bpf_csum_diff against the running 6.18 kernel: the expected values below are what BPF_PROG_TEST_RUN gave
/// for the same calls on the same frame (see <see cref="Frame"/>).</summary>
public class ChecksumTests
{
    // 45 00 00 73 00 00 40 00 40 11 [00 00] c0 a8 00 01 c0 a8 00 c7: the classic example header, checksum 0xb861.
    private static readonly byte[] s_ipHeader = Convert.FromHexString("450000730000400040110000c0a80001c0a800c7");

    /// <summary>1000 bytes of i &amp; 0xff with the IPv4 header above at offset 14 (checksum field zero).</summary>
    internal static byte[] Frame()
    {
        var f = new byte[1000];
        for (int i = 0; i < f.Length; i++)
        {
            f[i] = (byte)i;
        }

        s_ipHeader.CopyTo(f, 14);
        return f;
    }

    [Fact]
    public void Partial_Ipv4Header_FoldsToItsChecksum()
    {
        // The sum is over little-endian words, so the folded value lies in memory as the header's bytes b8 61.
        var field = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(field, NetChecksum.Fold(NetChecksum.Partial(s_ipHeader, 0)));
        Assert.Equal(new byte[] { 0xb8, 0x61 }, field);
        var withChecksum = (byte[])s_ipHeader.Clone();
        withChecksum[10] = 0xb8;
        withChecksum[11] = 0x61;
        Assert.Equal(0, NetChecksum.Fold(NetChecksum.Partial(withChecksum, 0)));
    }

    [Fact]
    public void Diff_TtlChange_MatchesFullRecompute()
    {
        // The incremental update programs do: csum_diff(&old, 4, &new, 4, ~old_csum), then fold and invert.
        var h = (byte[])s_ipHeader.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(10), 0xb861);
        var oldWord = h.AsSpan(8, 4).ToArray();
        h[8]--; // TTL 64 -> 63
        var newWord = h.AsSpan(8, 4).ToArray();
        ushort oldCsum = BinaryPrimitives.ReadUInt16LittleEndian(h.AsSpan(10));
        ushort sum = NetChecksum.Diff(oldWord, newWord, (ushort)~oldCsum);
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(10), (ushort)~sum);
        Assert.Equal(0, NetChecksum.Fold(NetChecksum.Partial(h, 0)));
        Assert.Equal(0xb961, BinaryPrimitives.ReadUInt16BigEndian(h.AsSpan(10)));
    }

    [Theory]
    [InlineData("", "", 0xabcdef01u, 0x9acf)]
    [InlineData("", "123456", 0u, 0x3468)]
    [InlineData("123456", "", 0u, 0xcb97)]
    [InlineData("ffffffff", "ffffffff", 0u, 0xffff)]
    [InlineData("0000000000000000", "", 0u, 0)]
    [InlineData("", "0000000000000000", 0u, 0)]
    [InlineData("0001020304050607", "", 0x1234u, 0x0228)]
    public void Diff_KernelValues(string from, string to, uint seed, int expected) =>
        Assert.Equal(expected, NetChecksum.Diff(Convert.FromHexString(from), Convert.FromHexString(to), seed));

    [Fact]
    public void CsumDiff_Program_SameResultsAsKernel()
    {
        // The calls of the kernel check, one result (u64) per call written over the frame's first 80 bytes.
        const string Asm = """
            r7 = *(u32 *)(r1 +0)
            r8 = *(u32 *)(r1 +4)
            r1 = r7
            r1 += 700
            if r1 > r8 goto fail
            *(u32 *)(r10 -8) = 0x563412
            *(u32 *)(r10 -16) = 0x01020304
            *(u64 *)(r10 -24) = 0
            *(u32 *)(r10 -32) = -1
            r1 = 0
            r2 = 0
            r3 = r7
            r3 += 14
            r4 = 20
            r5 = 0
            call bpf_csum_diff
            *(u64 *)(r10 -120) = r0
            r1 = 0
            r2 = 0
            r3 = r10
            r3 += -8
            r4 = 3
            r5 = 0
            call bpf_csum_diff
            *(u64 *)(r10 -112) = r0
            r1 = r10
            r1 += -8
            r2 = 3
            r3 = 0
            r4 = 0
            r5 = 0
            call bpf_csum_diff
            *(u64 *)(r10 -104) = r0
            r1 = r7
            r2 = 8
            r3 = 0
            r4 = 0
            r5 = 0x1234
            call bpf_csum_diff
            *(u64 *)(r10 -96) = r0
            r1 = r10
            r1 += -16
            r2 = 4
            r3 = r7
            r3 += 20
            r4 = 4
            r5 = 0
            call bpf_csum_diff
            *(u64 *)(r10 -88) = r0
            r1 = 0
            r2 = 0
            r3 = r10
            r3 += -24
            r4 = 8
            r5 = 0
            call bpf_csum_diff
            *(u64 *)(r10 -80) = r0
            r1 = 0
            r2 = 0
            r3 = r7
            r3 += 100
            r4 = 600
            r5 = 0xffffffff ll
            call bpf_csum_diff
            *(u64 *)(r10 -72) = r0
            r1 = r10
            r1 += -32
            r2 = 4
            r3 = r10
            r3 += -32
            r4 = 4
            r5 = 0
            call bpf_csum_diff
            *(u64 *)(r10 -64) = r0
            r1 = 0
            r2 = 0
            r3 = 0
            r4 = 0
            r5 = 0xabcdef01 ll
            call bpf_csum_diff
            *(u64 *)(r10 -56) = r0
            r1 = r10
            r1 += -24
            r2 = 8
            r3 = 0
            r4 = 0
            r5 = 0
            call bpf_csum_diff
            *(u64 *)(r10 -48) = r0
            r9 = 0
            loop:
            r1 = r10
            r1 += -120
            r1 += r9
            r2 = *(u64 *)(r1 +0)
            r1 = r7
            r1 += r9
            *(u64 *)(r1 +0) = r2
            r9 += 8
            if r9 < 80 goto loop
            r0 = 2
            exit
            fail:
            r0 = 0
            exit
            """;
        var o = NetRun.Once(Asm, Frame());
        Assert.Null(o.Error);
        Assert.Equal(2u, o.Retval);
        ulong[] expected = [0x9e47, 0x3468, 0xcb97, 0x228, 0xd7a, 0x0, 0x582d, 0xffff, 0x9acf, 0x0];
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], BinaryPrimitives.ReadUInt64LittleEndian(o.Data.AsSpan(8 * i)));
        }
    }

    [Fact]
    public void CsumDiff_BufferOutsideTheRun_Faults()
    {
        var o = NetRun.Once("r1 = 0\nr2 = 0\nr3 = r10\nr3 += 8\nr4 = 4\nr5 = 0\ncall bpf_csum_diff\nexit");
        Assert.NotNull(o.Error);
        Assert.Contains("out-of-bounds load of 4 bytes", o.Error!.Message);
    }
}
