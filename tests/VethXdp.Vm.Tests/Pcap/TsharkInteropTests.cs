using System.Diagnostics;
using VethXdp.Vm.Pcap;

namespace VethXdp.Vm.Tests.Pcap;

/// <summary>Our files as Wireshark's reader sees them; skipped where tshark is not installed.</summary>
public class TsharkInteropTests
{
    private static string? FindTshark()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, "tshark");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static string[] Tshark(string tshark, string file, params string[] fields)
    {
        var psi = new ProcessStartInfo(tshark) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-n", "-r", file, "-T", "fields", "-E", "separator=|" })
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var f in fields)
        {
            psi.ArgumentList.Add("-e");
            psi.ArgumentList.Add(f);
        }

        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), "tshark did not finish in 60 s");
        Assert.True(p.ExitCode == 0, $"tshark exit {p.ExitCode}: {stderr.Result}");
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    [SkippableFact]
    public void PcapNgWriter_Output_TsharkReadsVerdictComments()
    {
        string? tshark = FindTshark();
        Skip.If(tshark is null, "tshark is not on PATH (apt-get install tshark)");
        string path = Path.Combine(Path.GetTempPath(), "vethxdp-" + Guid.NewGuid().ToString("N") + ".pcapng");
        try
        {
            var frame = new byte[60];
            frame[12] = 0x08;
            frame[13] = 0x06;
            using (var w = PcapNgWriter.Create(path))
            {
                int lo = w.GetInterface(1);
                int veth = w.GetInterface(5, LinkTypes.Ethernet, "veth0");
                w.WritePacket(lo, 1_700_000_000_123_456_789L, frame, "XDP_TX", EpbFlags.Outbound);
                w.WritePacket(veth, 1_700_000_000_223_456_789L, frame.AsSpan(0, 59), "XDP_REDIRECT ifindex 5");
                w.WritePacket(lo, 1_700_000_001_000_000_000L, frame, "XDP_PASS", originalLength: 1500);
            }

            var lines = Tshark(tshark!, path, "frame.comment", "frame.len", "frame.cap_len", "frame.time_epoch", "frame.interface_name");
            Assert.Equal(
                [
                    "XDP_TX|60|60|1700000000.123456789|ifindex 1",
                    "XDP_REDIRECT ifindex 5|59|59|1700000000.223456789|veth0",
                    "XDP_PASS|1500|60|1700000001.000000000|ifindex 1",
                ],
                lines);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [SkippableTheory]
    [InlineData(false, PcapTimestampResolution.Microseconds, "1700000000.123456000")]
    [InlineData(true, PcapTimestampResolution.Nanoseconds, "1700000000.123456789")]
    public void PcapWriter_Output_TsharkReadsIt(bool bigEndian, PcapTimestampResolution resolution, string time)
    {
        string? tshark = FindTshark();
        Skip.If(tshark is null, "tshark is not on PATH (apt-get install tshark)");
        string path = Path.Combine(Path.GetTempPath(), "vethxdp-" + Guid.NewGuid().ToString("N") + ".pcap");
        try
        {
            var frame = new byte[42];
            frame[6] = 0x02;
            frame[11] = 0x07;
            using (var w = new PcapWriter(File.Create(path), LinkTypes.Ethernet, resolution, bigEndian: bigEndian))
            {
                w.WritePacket(1_700_000_000_123_456_789L, frame);
            }

            Assert.Equal([time + "|42|02:00:00:00:00:07"], Tshark(tshark!, path, "frame.time_epoch", "frame.len", "eth.src"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
