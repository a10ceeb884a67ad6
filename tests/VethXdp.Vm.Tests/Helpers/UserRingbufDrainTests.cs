using System.Buffers.Binary;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Pcap;
using VethXdp.Vm.Runtime;

namespace VethXdp.Vm.Tests.Helpers;

/// <summary>bpf_user_ringbuf_drain on corpus/xdp/xdp_user_ringbuf.c with the records its manifest run gives, without
/// the kernel: the counts are the ones Linux 6.18 left in the program's `stats` map (recorded with
/// corpus/pcaps/kern.py; the kernel cross-check compares the same run packet by packet).</summary>
public class UserRingbufDrainTests
{
    private static readonly byte[][] s_records =
    [
        Cmd(1, 9000), [], [1, 0, 0, 0], Cmd(3, 0), Cmd(1, 9001), Cmd(3, 0), Cmd(2, 9000), Cmd(9, 9000), [],
    ];

    [Theory]
    [InlineData("v2")]
    [InlineData("v4")]
    public void Drain_ManifestRecords_CountsAsLinux(string build)
    {
        using var obj = LoadedObject.Open(Path.Combine(TestPaths.CorpusDir, "xdp", $"xdp_user_ringbuf.{build}.o"), new LoadOptions { PossibleCpus = 2 });
        var ring = Assert.IsType<UserRingBufMap>(obj.Maps["commands"]);
        for (int i = 0; i < s_records.Length; i++)
        {
            // the second record is 8 bytes reserved and discarded by user space
            Assert.True(i == 1 ? ring.ProduceDiscarded(8) : ring.Produce(s_records[i]));
        }

        using var runner = new XdpRunner(obj);
        using var pcap = PcapReader.Open(Path.Combine(TestPaths.CorpusDir, "pcaps", "telemetry_udp.pcap"));
        var ports = new List<ushort>();
        foreach (var record in pcap.ReadAll())
        {
            var r = runner.Run(record.Data.Span);
            Assert.Null(r.Error);
            Assert.Equal(2u, r.Retval);
            var data = r.Data.Span;
            ports.Add(data.Length >= 38 && data[23] == 17 ? BinaryPrimitives.ReadUInt16BigEndian(data[36..]) : (ushort)0);
        }

        // frames 0 and 1 meet 9000 blocked (the first drain stops at the PAUSE), frame 2's drain allows it again;
        // 9001 stays blocked: blocked datagrams go to the discard port
        Assert.Equal([9, 9, 9000, 9000, 9000, 9000, 9000, 9000, 9, 0, 0], ports);
        var stats = new byte[64];
        Assert.Equal(0, obj.Maps["stats"].UserLookup(new byte[4], stats));
        long[] got = [.. Enumerable.Range(0, 8).Select(i => BinaryPrimitives.ReadInt64LittleEndian(stats.AsSpan(i * 8)))];

        // bad_flags_ret -EINVAL, last_ret 0 (nothing left), 11 drains, 8 callbacks, 3 applied, 3 bad (short, unknown
        // op, empty), 2 pauses, first bytes summing to 20
        Assert.Equal([-22, 0, 11, 8, 3, 3, 2, 20], got);
        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
    }

    private static byte[] Cmd(uint op, ushort port)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(b, op);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(4), port);
        return b;
    }
}
