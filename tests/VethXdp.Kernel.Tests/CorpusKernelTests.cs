using VethXdp.Kernel;
using VethXdp.Vm.Elf;
using VethXdp.Vm.Programs;

namespace VethXdp.Kernel.Tests;

/// <summary>Every corpus object, read by our ELF loader, loads into the running kernel (maps created, fds passed
/// through fd_array) and each of its XDP programs test-runs; the objects the kernel refuses are listed, with the
/// verifier's message, in corpus-kernel-refusals.txt.</summary>
public class CorpusKernelTests
{
    private const string ManifestName = "corpus-kernel-refusals.txt";

    public static TheoryData<string> Objects()
    {
        var data = new TheoryData<string>();
        foreach (string f in Directory.GetFiles(Path.Combine(TestPaths.CorpusDir, "xdp"), "*.o").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(f));
        }

        return data;
    }

    // Ethernet (IPv4) + IPv4 (UDP, 10.0.0.1 -> 10.0.0.2) + UDP 1234 -> 80, 64 bytes in all.
    internal static byte[] UdpFrame()
    {
        var f = new byte[64];
        byte[] head =
        [
            0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,
            0x45, 0, 0, 50, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
            0x04, 0xd2, 0, 80, 0, 30, 0, 0,
        ];
        head.CopyTo(f, 0);
        return f;
    }

    [SkippableTheory]
    [MemberData(nameof(Objects))]
    public void Load_CorpusObject_LoadsAndTestRunsOrIsAListedRefusal(string objectName)
    {
        KernelSkip.IfNotPermitted();
        var obj = ElfObjectReader.Load(Path.Combine(TestPaths.CorpusDir, "xdp", objectName));
        var xdp = obj.Programs.Where(p => p.Type == ProgramType.Xdp).ToList();
        Skip.If(xdp.Count == 0, $"{objectName} has no XDP program");
        var refusals = ConformanceKernelTests.ReadManifest(ManifestName);
        KernelObject loaded;
        try
        {
            loaded = KernelObject.Load(obj, new KernelLoadOptions { Programs = xdp.Select(p => p.Name).ToArray() });
        }
        catch (KernelBpfException e) when (refusals.TryGetValue(objectName, out string? reason))
        {
            Assert.Contains(reason, e.VerifierLog ?? e.Message, StringComparison.Ordinal);
            return;
        }

        using (loaded)
        {
            Assert.False(refusals.ContainsKey(objectName), $"{objectName} is listed in {ManifestName} but the kernel loaded it");
            Assert.True(obj.Btf is null || loaded.HasBtf, $"{objectName}: the kernel refused its BTF: {loaded.BtfError}");
            foreach (var p in xdp.Where(p => p.ExpectedAttachType is not (BpfFlags.AttachXdpDevmap or BpfFlags.AttachXdpCpumap)))
            {
                var r = loaded.TestRun(p.Name, UdpFrame());
                Assert.InRange(r.Retval, 0u, 4u);   // XDP_ABORTED .. XDP_REDIRECT
                Assert.True(r.DataOut.Length >= 14, $"{p.Name}: {r.DataOut.Length} bytes out");
            }
        }
    }
}
