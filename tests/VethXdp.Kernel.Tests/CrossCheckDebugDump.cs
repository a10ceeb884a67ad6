using VethXdp.Kernel;
using VethXdp.Vm.Elf;

namespace VethXdp.Kernel.Tests;

public class CrossCheckDebugDump
{
    [SkippableFact]
    public void Dump()
    {
        KernelSkip.IfNotPermitted();
        var sb = new System.Text.StringBuilder();
        var frames = new List<ReadOnlyMemory<byte>>();
        var v4 = Convert.FromHexString("02000000000202000000000108004500001c000140004011000c0a0000010a01000109c4003500080000");
        foreach (string dst in new[] { "10.1.0.1", "10.0.0.255", "10.0.0.254", "10.0.0.0", "10.0.1.2", "10.0.1.7", "10.0.0.7", "127.0.0.1", "224.0.0.1", "239.1.1.1", "255.255.255.255", "0.0.0.0", "8.8.8.8", "10.0.1.255", "10.0.1.254", "10.0.1.0", "10.1.255.255", "127.0.0.5", "169.254.1.1" })
        {
            foreach (int totLen in new[] { 28, 1400, 1401, 1500, 1501, 65535 })
            {
                var f = (byte[])v4.Clone();
                System.Net.IPAddress.Parse(dst).GetAddressBytes().CopyTo(f, 30);
                f[16] = (byte)(totLen >> 8);
                f[17] = (byte)totLen;
                frames.Add(f);
            }
        }

        var v6 = Convert.FromHexString("02000000000202000000000186dd6000000000140640fd000000000000000000000000000001fd0000000000000000000000000000009c400050000003e8000000005002ffff15660000");
        foreach (string dst in new[] { "fd00::", "fd00:1::", "fe80::1", "ff02::1", "ff05::2", "fd00::1", "fd00:1::2", "fd00:1::5", "2001:db8:1::1", "::1", "fd00::fe", "fd00:1::fe", "fe80::", "2001:db8:1::", "::ffff:10.1.0.1", "::", "2001:db8:2::1", "fd00::ff:ffff" })
        {
            foreach (int payload in new[] { 20, 1360, 1361, 1460, 1461, 65535 })
            {
                var f = (byte[])v6.Clone();
                System.Net.IPAddress.Parse(dst).GetAddressBytes().CopyTo(f, 38);
                f[18] = (byte)(payload >> 8);
                f[19] = (byte)payload;
                frames.Add(f);
            }
        }

        var sw = System.Diagnostics.Stopwatch.StartNew();
        foreach (var c in CrossCheckManifest.Cases.Where(c => c.Build == "v4" && c.Object == "xdp_fib_router").SelectMany(c => new uint[] { 1, 2, 3, 4, 5 }.Select(i => c with { Ifindex = i })))
        {
            try
            {
                var obj = ElfObjectReader.Load(c.ObjectPath);
                var r = CrossCheck.Run(obj, frames, CrossCheckCorpusTests.Options(c) with { CompareMapsAfterEachPacket = true });
                sb.AppendLine("### " + c.Id + " " + frames.Count + " ifindex " + c.Ifindex);
                if (!r.Agrees)
                {
                    sb.AppendLine(r.Summary);
                    foreach (var d in r.MapDisagreements.Where(d => d.Packet >= 0).Select(d => d.Packet!.Value).Concat(r.PacketDisagreements.Select(d => d.Packet)).Distinct().Order())
                    {
                        sb.AppendLine($"{d}: " + Convert.ToHexStringLower(frames[d].Span));
                    }
                }
            }
            catch (Exception e)
            {
                sb.AppendLine("### " + c.Id + " EXCEPTION " + e);
            }
        }

        sb.AppendLine(sw.Elapsed.ToString());
        File.WriteAllText("/tmp/cc/dump.txt", sb.ToString());
    }
}
