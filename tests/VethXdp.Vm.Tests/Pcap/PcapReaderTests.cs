using System.Buffers.Binary;
using VethXdp.Vm.Pcap;
using static VethXdp.Vm.Tests.Pcap.PcapNgBytes;

namespace VethXdp.Vm.Tests.Pcap;

public class PcapReaderTests
{
    private static byte[] Frame(int length, int seed)
    {
        var data = new byte[length];
        for (int i = 0; i < length; i++)
        {
            data[i] = (byte)((i * 7) + seed);
        }

        return data;
    }

    private static List<(PcapRecord Record, byte[] Data, string? Comment)> ReadAll(byte[] file, string name = "t.pcapng")
    {
        using var reader = new PcapReader(new MemoryStream(file), name);
        var list = new List<(PcapRecord, byte[], string?)>();
        while (reader.TryRead(out var r))
        {
            list.Add((r, r.Data.ToArray(), r.GetComment()));
        }

        return list;
    }

    // ---- classic pcap ----

    [Theory]
    [InlineData(false, PcapTimestampResolution.Microseconds)]
    [InlineData(true, PcapTimestampResolution.Microseconds)]
    [InlineData(false, PcapTimestampResolution.Nanoseconds)]
    [InlineData(true, PcapTimestampResolution.Nanoseconds)]
    public void ClassicRoundTrip_EveryByteOrderAndResolution_ReadsWhatWasWritten(bool bigEndian, PcapTimestampResolution resolution)
    {
        var ms = new MemoryStream();
        long[] ts = [1_700_000_000_123_456_789L, 1_700_000_001_000_000_001L, 5L];
        using (var w = new PcapWriter(ms, LinkTypes.Ethernet, resolution, 65535, bigEndian, leaveOpen: true))
        {
            w.WritePacket(ts[0], Frame(60, 1));
            w.WritePacket(ts[1], Frame(1514, 2), originalLength: 9000);
            w.WritePacket(ts[2], Frame(14, 3));
            Assert.Equal(3, w.PacketsWritten);
        }

        using var reader = new PcapReader(new MemoryStream(ms.ToArray()), "x.pcap");
        Assert.Equal(PcapFileFormat.Pcap, reader.Format);
        Assert.Equal(bigEndian, reader.IsBigEndian);
        Assert.Equal(resolution, reader.TimestampResolution);
        Assert.Equal(LinkTypes.Ethernet, reader.LinkType);
        Assert.Equal(65535u, reader.SnapLength);
        Assert.Equal((2, 4), (reader.VersionMajor, reader.VersionMinor));
        var records = reader.ReadAll().Select(r => (r.Index, r.TimestampNs, r.OriginalLength, Data: r.Data.ToArray(), r.LinkType)).ToList();
        Assert.Equal(3, records.Count);
        long Expect(long t) => resolution == PcapTimestampResolution.Nanoseconds ? t : t / 1000 * 1000;
        Assert.Equal([0L, 1, 2], records.Select(r => r.Index));
        Assert.Equal(ts.Select(Expect), records.Select(r => r.TimestampNs));
        Assert.Equal([60u, 9000, 14], records.Select(r => r.OriginalLength));
        Assert.Equal(Frame(60, 1), records[0].Data);
        Assert.Equal(Frame(1514, 2), records[1].Data);
        Assert.Equal(Frame(14, 3), records[2].Data);
        Assert.All(records, r => Assert.Equal(LinkTypes.Ethernet, r.LinkType));
    }

    [Fact]
    public void ClassicHeader_BigEndianNanosecondBytes_AreDecoded()
    {
        // a1 b2 3c 4d: big-endian nanosecond magic; version 2.4; snaplen 0x40; link type 101 (raw IP)
        byte[] file =
        [
            0xa1, 0xb2, 0x3c, 0x4d, 0x00, 0x02, 0x00, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 101,
            0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x05, 0xaa, 0xbb, 0xcc,
        ];
        var records = ReadAll(file, "be.pcap");
        Assert.Single(records);
        Assert.Equal(2_000_000_007L, records[0].Record.TimestampNs);
        Assert.Equal(5u, records[0].Record.OriginalLength);
        Assert.Equal(new byte[] { 0xaa, 0xbb, 0xcc }, records[0].Data);
        Assert.Equal(LinkTypes.Raw, records[0].Record.LinkType);
    }

    [Fact]
    public void ClassicHeader_FcsBitsInLinkType_AreMaskedOff()
    {
        var ms = new MemoryStream();
        using (new PcapWriter(ms, 0x1400_0001u, leaveOpen: true))
        {
        }

        using var reader = new PcapReader(new MemoryStream(ms.ToArray()), "fcs.pcap");
        Assert.Equal(LinkTypes.Ethernet, reader.LinkType);
    }

    [Fact]
    public void ClassicModifiedFormat_LongerRecordHeaders_AreRead()
    {
        var file = new List<byte>();
        file.AddRange(BitConverter.GetBytes(0xa1b2cd34u));
        file.AddRange(new byte[] { 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0 });
        file.AddRange(BitConverter.GetBytes(3u));           // seconds
        file.AddRange(BitConverter.GetBytes(4u));           // microseconds
        file.AddRange(BitConverter.GetBytes(2u));           // captured
        file.AddRange(BitConverter.GetBytes(2u));           // original
        file.AddRange(new byte[] { 5, 0, 0, 0, 8, 0, 0, 0 }); // ifindex, protocol, pkt_type, pad
        file.AddRange(new byte[] { 0x11, 0x22 });
        var records = ReadAll([.. file], "mod.pcap");
        Assert.Single(records);
        Assert.Equal(3_000_004_000L, records[0].Record.TimestampNs);
        Assert.Equal(new byte[] { 0x11, 0x22 }, records[0].Data);
    }

    [Fact]
    public void ClassicTruncatedRecord_KOfN_DeliversKRecordsThenThrowsNamingRecordK()
    {
        var ms = new MemoryStream();
        using (var w = new PcapWriter(ms, leaveOpen: true))
        {
            for (int i = 0; i < 10; i++)
            {
                w.WritePacket(i * 1000L, Frame(98, i));
            }
        }

        // Record 7 starts at 24 + 7 * (16 + 98); keep its header and 40 bytes of its data.
        long offset7 = 24 + (7 * 114);
        var cut = ms.ToArray()[..(int)(offset7 + 16 + 40)];
        using var reader = new PcapReader(new MemoryStream(cut), "in.pcap");
        var delivered = new List<long>();
        var ex = Assert.Throws<PcapFormatException>(() =>
        {
            foreach (var r in reader.ReadAll())
            {
                delivered.Add(r.Index);
                Assert.Equal(Frame(98, (int)r.Index), r.Data.ToArray());
            }
        });
        Assert.Equal([0L, 1, 2, 3, 4, 5, 6], delivered);
        Assert.Equal(7, ex.RecordIndex);
        Assert.Equal(offset7, ex.Offset);
        Assert.Equal("in.pcap: record 7 at offset 0x" + offset7.ToString("x") + ": truncated: header says 98 bytes, 40 remain", ex.Message);
        Assert.False(reader.TryRead(out _));
    }

    [Fact]
    public void ClassicTruncatedRecordHeader_Throws_NamingTheRecord()
    {
        var ms = new MemoryStream();
        using (var w = new PcapWriter(ms, leaveOpen: true))
        {
            w.WritePacket(0, Frame(20, 0));
        }

        var file = ms.ToArray().Concat(new byte[5]).ToArray();
        using var reader = new PcapReader(new MemoryStream(file), "h.pcap");
        Assert.True(reader.TryRead(out _));
        var ex = Assert.Throws<PcapFormatException>(() => reader.TryRead(out _));
        Assert.Equal("h.pcap: record 1 at offset 0x3c: truncated record header: 16 bytes needed, 5 remain", ex.Message);
    }

    [Fact]
    public void ClassicHugeCapturedLength_IsCorrupt()
    {
        var ms = new MemoryStream();
        using (var w = new PcapWriter(ms, leaveOpen: true))
        {
            w.WritePacket(0, Frame(20, 0));
        }

        var file = ms.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(24 + 8), 0x7fffffff);
        using var reader = new PcapReader(new MemoryStream(file), "c.pcap");
        var ex = Assert.Throws<PcapFormatException>(() => reader.TryRead(out _));
        Assert.Contains("record 0 at offset 0x18: corrupt: captured length 2147483647 is larger than the maximum", ex.Message);
    }

    [Fact]
    public void ClassicTruncatedFileHeader_IsOneErrorNamingTheFile()
    {
        byte[] file = [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0];
        var ex = Assert.Throws<PcapFormatException>(() => new PcapReader(new MemoryStream(file), "short.pcap"));
        Assert.Equal("short.pcap: offset 0x0: truncated pcap file header: 24 bytes needed, 10 remain", ex.Message);
        Assert.Equal(-1, ex.RecordIndex);
    }

    // ---- not a capture ----

    [Fact]
    public void Open_TextFile_SaysItIsNotACapture()
    {
        var ex = Assert.Throws<PcapFormatException>(() => new PcapReader(new MemoryStream("Hello, world\n"u8.ToArray()), "notes.txt"));
        Assert.Equal("notes.txt: not a pcap or pcapng file (it starts with 48 65 6c 6c)", ex.Message);
    }

    [Theory]
    [InlineData(0, "e.pcap: empty file: not a pcap or pcapng file")]
    [InlineData(3, "e.pcap: not a pcap or pcapng file (only 3 bytes)")]
    public void Open_TooShort_SaysItIsNotACapture(int length, string message)
    {
        var ex = Assert.Throws<PcapFormatException>(() => new PcapReader(new MemoryStream(new byte[length]), "e.pcap"));
        Assert.Equal(message, ex.Message);
    }

    [Fact]
    public void Open_Path_NamesTheFileWithoutItsDirectory()
    {
        string path = Path.Combine(Path.GetTempPath(), "vethxdp-pcap-" + Guid.NewGuid().ToString("N") + ".bin");
        File.WriteAllBytes(path, [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
        try
        {
            var ex = Assert.Throws<PcapFormatException>(() => PcapReader.Open(path));
            Assert.StartsWith(Path.GetFileName(path) + ": not a pcap or pcapng file", ex.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    // ---- pcapng ----

    [Fact]
    public void PcapNgRoundTrip_CommentsFlagsInterfaces_ReadBack()
    {
        var ms = new MemoryStream();
        using (var w = new PcapNgWriter(ms, leaveOpen: true))
        {
            int lo = w.GetInterface(1);
            int veth = w.GetInterface(5, LinkTypes.Ethernet, "veth0");
            Assert.Equal(lo, w.GetInterface(1));
            int raw = w.GetInterface(5, LinkTypes.Raw);
            Assert.Equal([0, 1, 2], new[] { lo, veth, raw });
            w.WritePacket(lo, 1_700_000_000_123_456_789L, Frame(60, 1), "XDP_TX");
            w.WritePacket(veth, 1_700_000_000_123_456_790L, Frame(61, 2), "XDP_REDIRECT ifindex 5", EpbFlags.Outbound);
            w.WritePacket(raw, 3, Frame(1, 3), flags: EpbFlags.Inbound, originalLength: 1500);
            w.WritePacket(lo, 4, ReadOnlySpan<byte>.Empty, "é ✓");
            Assert.Equal(4, w.PacketsWritten);
        }

        using var reader = new PcapReader(new MemoryStream(ms.ToArray()), "out.pcapng");
        Assert.Equal(PcapFileFormat.PcapNg, reader.Format);
        Assert.Equal("vethxdp", reader.UserApplication);
        Assert.Equal((1, 0), (reader.VersionMajor, reader.VersionMinor));
        var records = new List<(PcapRecord R, byte[] Data, string? Comment)>();
        while (reader.TryRead(out var r))
        {
            records.Add((r, r.Data.ToArray(), r.GetComment()));
        }

        Assert.Equal(3, reader.Interfaces.Count);
        Assert.Equal("veth0", reader.Interfaces[1].Name);
        Assert.Equal(9, reader.Interfaces[0].TsResolutionCode);
        Assert.Equal(4, records.Count);
        Assert.Equal([1_700_000_000_123_456_789L, 1_700_000_000_123_456_790L, 3, 4], records.Select(r => r.R.TimestampNs));
        Assert.Equal(["XDP_TX", "XDP_REDIRECT ifindex 5", null, "é ✓"], records.Select(r => r.Comment));
        Assert.Equal([null, EpbFlags.Outbound, EpbFlags.Inbound, null], records.Select(r => r.R.Flags));
        Assert.Equal([0, 1, 2, 0], records.Select(r => r.R.InterfaceId));
        Assert.Equal([LinkTypes.Ethernet, LinkTypes.Ethernet, LinkTypes.Raw, LinkTypes.Ethernet], records.Select(r => r.R.LinkType));
        Assert.Equal([60u, 61, 1500, 0], records.Select(r => r.R.OriginalLength));
        Assert.Equal(Frame(61, 2), records[1].Data);
        Assert.Equal(Frame(1, 3), records[2].Data);
        Assert.Empty(records[3].Data);
    }

    [Fact]
    public void PcapNgWriter_Blocks_AreAlignedAndTrailed()
    {
        var ms = new MemoryStream();
        using (var w = new PcapNgWriter(ms, leaveOpen: true))
        {
            w.WritePacket(w.GetInterface(3), 1, Frame(61, 0), "ab");
        }

        // Walk the blocks: every length is a multiple of 4 and its trailer repeats it.
        var bytes = ms.ToArray();
        var types = new List<uint>();
        var lengths = new List<int>();
        int at = 0;
        while (at < bytes.Length)
        {
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at));
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 4));
            Assert.Equal(0, length % 4);
            Assert.Equal((uint)length, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + length - 4)));
            types.Add(type);
            lengths.Add(length);
            at += length;
        }

        Assert.Equal(bytes.Length, at);
        Assert.Equal([0x0a0d0d0au, 1, 6], types);
        // EPB: 28 header bytes + 64 data (61 padded) + comment option 8 + opt_endofopt 4 + trailer 4
        Assert.Equal(108, lengths[2]);
    }

    [Fact]
    public void PcapNg_BigEndianSection_IsRead()
    {
        var b = new PcapNgBytes();
        b.Shb(bigEndian: true, options: Opt(4, "be-writer"));
        b.Idb(1, 0, Opt(2, "eth0"), Opt(9, 9));
        b.Epb(0, 0x0000_0001_0000_0002UL, [1, 2, 3, 4, 5], 70, Opt(1, "hi"), Opt(2, b.U32(EpbFlags.Inbound)));
        var records = ReadAll(b.ToArray());
        using var reader = new PcapReader(new MemoryStream(b.ToArray()), "be.pcapng");
        Assert.True(reader.IsBigEndian);
        Assert.Equal("be-writer", reader.UserApplication);
        Assert.Single(records);
        Assert.Equal((long)0x0000_0001_0000_0002UL, records[0].Record.TimestampNs);
        Assert.Equal(70u, records[0].Record.OriginalLength);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, records[0].Data);
        Assert.Equal("hi", records[0].Comment);
        Assert.Equal(EpbFlags.Inbound, records[0].Record.Flags);
    }

    [Fact]
    public void PcapNg_SeveralSections_EachWithItsByteOrderAndInterfaces()
    {
        var b = new PcapNgBytes();
        b.Shb(bigEndian: false);
        b.Idb(1);
        b.Epb(0, 1_000, [1]);
        b.Shb(bigEndian: true);
        b.Idb(101);
        b.Idb(1);
        b.Epb(1, 2_000, [2]);
        b.Epb(0, 3_000, [3]);
        var records = ReadAll(b.ToArray());
        Assert.Equal([0L, 1, 2], records.Select(r => r.Record.Index));
        Assert.Equal([1_000_000L, 2_000_000, 3_000_000], records.Select(r => r.Record.TimestampNs)); // default 10^-6
        Assert.Equal([LinkTypes.Ethernet, LinkTypes.Ethernet, LinkTypes.Raw], records.Select(r => r.Record.LinkType));
        Assert.Equal([0, 1, 0], records.Select(r => r.Record.InterfaceId));
        Assert.Equal([1, 2, 3], records.Select(r => (int)r.Data[0]));
    }

    [Fact]
    public void PcapNg_SimplePacketBlock_TakesInterfaceZeroAndItsSnaplen()
    {
        var b = new PcapNgBytes();
        b.Shb();
        b.Idb(1, snapLength: 8);
        b.Spb(100, Frame(8, 9));       // captured 8 of 100 (the snaplen)
        b.Spb(3, Frame(3, 4));          // 3 bytes, padded to 4 in the block
        var records = ReadAll(b.ToArray());
        Assert.Equal(2, records.Count);
        Assert.Equal(Frame(8, 9), records[0].Data);
        Assert.Equal(100u, records[0].Record.OriginalLength);
        Assert.Equal(Frame(3, 4), records[1].Data);
        Assert.Equal(0L, records[1].Record.TimestampNs);
        Assert.Equal(LinkTypes.Ethernet, records[1].Record.LinkType);
    }

    [Fact]
    public void PcapNg_ObsoletePacketBlock_IsRead()
    {
        var b = new PcapNgBytes();
        b.Shb();
        b.Idb(1);
        b.Idb(101);
        b.Opb(1, 7, [9, 8, 7], Opt(1, "old"), Opt(2, b.U32(EpbFlags.Outbound)));
        var records = ReadAll(b.ToArray());
        Assert.Single(records);
        Assert.Equal(1, records[0].Record.InterfaceId);
        Assert.Equal(LinkTypes.Raw, records[0].Record.LinkType);
        Assert.Equal(7_000L, records[0].Record.TimestampNs);
        Assert.Equal("old", records[0].Comment);
        Assert.Equal(EpbFlags.Outbound, records[0].Record.Flags);
    }

    [Fact]
    public void PcapNg_UnknownBlocks_AreSkipped()
    {
        var b = new PcapNgBytes();
        b.Shb();
        b.Raw(0x00000bad, [1, 2, 3, 4, 5, 6, 7, 8]);        // custom block
        b.Idb(1);
        b.Raw(4, [0, 0, 0, 0]);                              // name resolution block, nrb_record_end only
        b.Epb(0, 1, [1]);
        b.Raw(5, new byte[12]);                              // interface statistics block
        b.Raw(0x0000000a, new byte[16]);                     // decryption secrets block
        b.Raw(0x4000_0bad, []);                              // custom block that must not be copied, empty body
        b.Epb(0, 2, [2]);
        var records = ReadAll(b.ToArray());
        Assert.Equal([1, 2], records.Select(r => (int)r.Data[0]));
        Assert.Equal([0L, 1], records.Select(r => r.Record.Index));
    }

    [Theory]
    [InlineData((byte)9, 1_234_567_890UL, 1_234_567_890L)]           // 10^-9
    [InlineData((byte)3, 1_234UL, 1_234_000_000L)]                   // 10^-3
    [InlineData((byte)12, 1_234_567UL, 1_234L)]                      // 10^-12
    [InlineData((byte)0x80, 3UL, 3_000_000_000L)]                    // 2^-0
    [InlineData((byte)(0x80 | 10), 1024UL * 5, 5_000_000_000L)]      // 2^-10
    [InlineData((byte)(0x80 | 30), 1UL << 29, 500_000_000L)]         // 2^-30
    [InlineData((byte)(0x80 | 32), 0x0000_0001_8000_0000UL, 1_500_000_000L)]
    public void PcapNg_IfTsresol_ConvertsToNanoseconds(byte tsresol, ulong units, long ns)
    {
        var b = new PcapNgBytes();
        b.Shb();
        b.Idb(1, 0, Opt(9, tsresol));
        b.Epb(0, units, [0]);
        var records = ReadAll(b.ToArray());
        Assert.Equal(ns, records[0].Record.TimestampNs);
    }

    [Fact]
    public void PcapNg_IfTsoffset_IsAddedInSeconds()
    {
        var b = new PcapNgBytes();
        b.Shb(bigEndian: true);
        b.Idb(1, 0, Opt(9, 9), Opt(14, b.U64(1_000)));
        b.Epb(0, 5, [0]);
        Assert.Equal(1_000_000_000_005L, ReadAll(b.ToArray())[0].Record.TimestampNs);
    }

    [Fact]
    public void PcapNg_HighTimestampWord_IsUsed()
    {
        var b = new PcapNgBytes();
        b.Shb();
        b.Idb(1, 0, Opt(9, 9));
        b.Epb(0, 1_700_000_000_123_456_789UL, [0]);
        Assert.Equal(1_700_000_000_123_456_789L, ReadAll(b.ToArray())[0].Record.TimestampNs);
    }

    [Fact]
    public void PcapNgTruncatedRecord_KOfN_DeliversKRecordsThenThrowsNamingRecordK()
    {
        var b = new PcapNgBytes();
        b.Shb();
        b.Idb(1);
        var offsets = new List<int>();
        for (int i = 0; i < 5; i++)
        {
            offsets.Add(b.Length);
            b.Epb(0, (ulong)i, Frame(98, i));
        }

        // Cut record 3's block after its first 40 bytes.
        var cut = b.ToArray()[..(offsets[3] + 40)];
        using var reader = new PcapReader(new MemoryStream(cut), "in.pcapng");
        var delivered = new List<long>();
        var ex = Assert.Throws<PcapFormatException>(() =>
        {
            while (reader.TryRead(out var r))
            {
                delivered.Add(r.Index);
            }
        });
        Assert.Equal([0L, 1, 2], delivered);
        Assert.Equal(3, ex.RecordIndex);
        Assert.Equal(offsets[3], ex.Offset);
        Assert.Equal($"in.pcapng: record 3 at offset 0x{offsets[3]:x}: truncated enhanced packet block: header says 132 bytes, 40 remain", ex.Message);
    }

    [Fact]
    public void PcapNg_TrailerMismatch_IsCorrupt()
    {
        var b = new PcapNgBytes();
        b.Shb();
        b.Idb(1);
        int at = b.Length;
        b.Epb(0, 1, [1, 2, 3, 4]);
        var file = b.ToArray();
        file[^1] ^= 0x40; // last byte of the EPB's trailing length (little-endian: its high byte)
        using var reader = new PcapReader(new MemoryStream(file), "t.pcapng");
        var ex = Assert.Throws<PcapFormatException>(() => reader.TryRead(out _));
        Assert.Equal(at, ex.Offset);
        Assert.Contains("corrupt enhanced packet block: trailing block length", ex.Message);
    }

    [Fact]
    public void PcapNg_UndescribedInterface_IsCorrupt()
    {
        var b = new PcapNgBytes();
        b.Shb();
        b.Idb(1);
        b.Epb(0, 1, [1]);
        b.Epb(4, 1, [1]);
        using var reader = new PcapReader(new MemoryStream(b.ToArray()), "t.pcapng");
        Assert.True(reader.TryRead(out _));
        var ex = Assert.Throws<PcapFormatException>(() => reader.TryRead(out _));
        Assert.Contains("record 1 at offset", ex.Message);
        Assert.Contains("interface 4 is not described (1 interface description block(s) in this section)", ex.Message);
    }

    [Fact]
    public void PcapNg_CapturedLengthBeyondBlock_IsCorrupt()
    {
        var b = new PcapNgBytes();
        b.Shb();
        b.Idb(1);
        int at = b.Length;
        b.Epb(0, 1, [1, 2, 3, 4]);
        var file = b.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(at + 20), 400); // captured length
        using var reader = new PcapReader(new MemoryStream(file), "t.pcapng");
        var ex = Assert.Throws<PcapFormatException>(() => reader.TryRead(out _));
        Assert.Contains("captured length 400 overruns the block", ex.Message);
    }

    [Fact]
    public void PcapNg_BadByteOrderMagic_IsOneErrorNamingTheFile()
    {
        var file = new PcapNgBytes().Shb().ToArray();
        file[8] = 0x99;
        var ex = Assert.Throws<PcapFormatException>(() => new PcapReader(new MemoryStream(file), "bom.pcapng"));
        Assert.StartsWith("bom.pcapng: offset 0x0: corrupt section header block: byte-order magic", ex.Message);
    }

    [Fact]
    public void PcapNg_UnsupportedVersion_IsRefused()
    {
        var file = new PcapNgBytes().Shb(major: 2).ToArray();
        var ex = Assert.Throws<PcapFormatException>(() => new PcapReader(new MemoryStream(file), "v.pcapng"));
        Assert.Equal("v.pcapng: offset 0x0: unsupported pcapng version 2.0 (1.0 expected)", ex.Message);
    }

    [Fact]
    public void PcapNg_BlockLengthNotMultipleOfFour_IsCorrupt()
    {
        var b = new PcapNgBytes();
        b.Shb();
        int at = b.Length;
        b.Idb(1);
        var file = b.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(at + 4), 21);
        using var reader = new PcapReader(new MemoryStream(file), "t.pcapng");
        var ex = Assert.Throws<PcapFormatException>(() => reader.TryRead(out _));
        Assert.Equal($"t.pcapng: record 0 at offset 0x{at:x}: corrupt interface description block: block length 21 is not a multiple of 4", ex.Message);
    }

    [Fact]
    public void PcapNg_OptionOverrunningBlock_IsCorrupt()
    {
        var b = new PcapNgBytes();
        b.Shb();
        b.Raw(1, [1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 200, 0]); // IDB whose if_name claims 200 bytes
        using var reader = new PcapReader(new MemoryStream(b.ToArray()), "t.pcapng");
        var ex = Assert.Throws<PcapFormatException>(() => reader.TryRead(out _));
        Assert.Contains("corrupt interface description block: option 2 of length 200 overruns the block", ex.Message);
    }

    [Fact]
    public void PcapNg_LeadingInterfaces_AreKnownBeforeTheFirstRead()
    {
        var b = new PcapNgBytes();
        b.Shb();
        b.Idb(101, 128);
        b.Idb(1);
        b.Epb(1, 5, [7]);
        using var reader = new PcapReader(new MemoryStream(b.ToArray()), "t.pcapng");
        Assert.Equal(LinkTypes.Raw, reader.LinkType);
        Assert.Equal(128u, reader.SnapLength);
        Assert.Equal(2, reader.Interfaces.Count);
        Assert.True(reader.TryRead(out var r));
        Assert.Equal(LinkTypes.Ethernet, r.LinkType);
        Assert.Equal(7, r.Data.Span[0]);
        Assert.False(reader.TryRead(out _));
    }

    [Fact]
    public void PcapNg_CorruptBlockAfterHeader_ThrowsOnTheFirstReadNotInTheConstructor()
    {
        var b = new PcapNgBytes();
        b.Shb();
        int at = b.Length;
        b.Idb(1);
        var file = b.ToArray()[..(at + 10)];
        using var reader = new PcapReader(new MemoryStream(file), "t.pcapng");
        Assert.Null(reader.LinkType);
        var ex = Assert.Throws<PcapFormatException>(() => reader.TryRead(out _));
        Assert.Equal($"t.pcapng: record 0 at offset 0x{at:x}: truncated interface description block: header says 20 bytes, 10 remain", ex.Message);
    }

    [Fact]
    public void PcapNg_NoPackets_EndsCleanly()
    {
        using var reader = new PcapReader(new MemoryStream(new PcapNgBytes().Shb().Idb(1).ToArray()), "t.pcapng");
        Assert.Equal(LinkTypes.Ethernet, reader.LinkType);
        Assert.False(reader.TryRead(out _));
        Assert.Equal(0, reader.RecordsRead);
    }

    [Fact]
    public void PcapNg_NonSeekableStream_IsRead()
    {
        var b = new PcapNgBytes();
        b.Shb();
        b.Idb(1);
        b.Epb(0, 1, Frame(300, 1));
        using var reader = new PcapReader(new NonSeekableStream(b.ToArray()), "pipe");
        Assert.True(reader.TryRead(out var r));
        Assert.Equal(Frame(300, 1), r.Data.ToArray());
        Assert.False(reader.TryRead(out _));
    }

    // ---- flat memory ----

    [Fact]
    public void ClassicStreaming_200000Records_AllocationDoesNotGrowWithCount()
    {
        var ms = new MemoryStream();
        using (var w = new PcapWriter(ms, leaveOpen: true))
        {
            var frame = Frame(64, 0);
            for (int i = 0; i < 200_000; i++)
            {
                w.WritePacket(i, frame);
            }
        }

        ms.Position = 0;
        AssertFlat(new PcapReader(ms, "big.pcap"), 200_000);
    }

    [Fact]
    public void PcapNgStreaming_200000Records_AllocationDoesNotGrowWithCount()
    {
        var ms = new MemoryStream();
        using (var w = new PcapNgWriter(ms, leaveOpen: true))
        {
            var frame = Frame(64, 0);
            int a = w.GetInterface(1), c = w.GetInterface(2);
            for (int i = 0; i < 200_000; i++)
            {
                w.WritePacket(i % 3 == 0 ? a : c, i, frame, i % 2 == 0 ? "XDP_TX" : "XDP_PASS", EpbFlags.Outbound);
            }
        }

        ms.Position = 0;
        AssertFlat(new PcapReader(ms, "big.pcapng"), 200_000);
    }

    [Fact]
    public void PcapNgWriter_ManyPackets_AllocatesNothingPerPacket()
    {
        var ms = new MemoryStream(200 * 10_100);
        using var w = new PcapNgWriter(ms, leaveOpen: true);
        var frame = Frame(64, 0);
        int id = w.GetInterface(1);
        w.WritePacket(id, 0, frame, "XDP_REDIRECT ifindex 5", EpbFlags.Outbound);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            w.WritePacket(id, i, frame, "XDP_REDIRECT ifindex 5", EpbFlags.Outbound);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(10_001, w.PacketsWritten);
    }

    private static void AssertFlat(PcapReader reader, int count)
    {
        using (reader)
        {
            long sum = 0;
            int n = 0;
            // Warm up: the buffer reaches its size on the first records.
            for (; n < 1_000; n++)
            {
                Assert.True(reader.TryRead(out var r));
                sum += r.Data.Span[1];
            }

            long before = GC.GetAllocatedBytesForCurrentThread();
            while (reader.TryRead(out var r))
            {
                sum += r.Data.Span[1] + r.CommentUtf8.Length;
                n++;
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(count, n);
            Assert.True(sum > 0);
            // Any per-record allocation (an object is at least 24 bytes) would come to megabytes over these records; the
            // allowance covers one-off runtime work on this thread under load (tiering, OSR), which is not per record.
            Assert.True(allocated < 64 * 1024, $"{allocated} bytes allocated over {count - 1_000} records");
        }
    }

    private sealed class NonSeekableStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream _inner = new(bytes);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        // At most 7 bytes per call, to exercise short reads.
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 7));

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
