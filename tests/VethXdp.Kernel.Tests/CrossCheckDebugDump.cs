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
        var pcaps = Directory.GetFiles(Path.Combine(TestPaths.CorpusDir, "pcaps"), "*.pcap").Order().ToList();
        var template = Convert.FromHexString("02000000000202000000000186dd6000000000140640fd000000000000000000000000000001fd0000000000000000000000000000009c400050000003e8000000005002ffff15660000");
        var frames = new List<ReadOnlyMemory<byte>>();
        foreach (string dst in new[] { "fd00::", "fe80::1", "ff02::1", "ff05::2", "fd00::1", "fd00:1::", "fd00:1::5", "2001:db8:1::1", "::1", "fd00::fe", "fe80::", "2001:db8:1::", "::ffff:10.1.0.1", "::" })
        {
            var f = (byte[])template.Clone();
            System.Net.IPAddress.Parse(dst).GetAddressBytes().CopyTo(f, 38);
            frames.Add(f);
        }

        var sw = System.Diagnostics.Stopwatch.StartNew();
        foreach (var c in CrossCheckManifest.Cases.Where(c => c.Build == "v4" && c.Object == "xdp_fib_router"))
        {
            try
            {
                var obj = ElfObjectReader.Load(c.ObjectPath);
                var r = CrossCheck.Run(obj, frames, CrossCheckCorpusTests.Options(c) with { CompareMapsAfterEachPacket = true });
                sb.AppendLine("### " + c.Id + " " + frames.Count);
                foreach (var p in r.Packets)
                {
                    sb.AppendLine($"  #{p.Index}: k={p.Kernel.Retval} vm={p.Vm.Retval}");
                }

                if (!r.Agrees)
                {
                    sb.AppendLine(r.Summary);
                    foreach (var d in r.MapDisagreements.Where(d => d.Packet is not null))
                    {
                        sb.AppendLine(Convert.ToHexStringLower(frames[d.Packet!.Value].Span));
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
