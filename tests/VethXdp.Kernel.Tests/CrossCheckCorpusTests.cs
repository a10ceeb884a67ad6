using System.Globalization;
using System.Text.Json;
using VethXdp.Kernel;
using VethXdp.Vm.Elf;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Programs;

namespace VethXdp.Kernel.Tests;

/// <summary>Issue 3's "every corpus program agrees with the kernel on every committed packet": each run of
/// corpus/manifest.json, at cpu v2, v3 and v4, through <see cref="CrossCheck"/>: the same verdicts, output bytes and
/// final maps in our VM and in the running kernel. Objects with an expectedFailure are checked to fail as described.</summary>
public class CrossCheckCorpusTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var c in CrossCheckManifest.Cases)
        {
            data.Add(c.Id);
        }

        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void Run_CorpusRun_KernelAndVmAgree(string id)
    {
        KernelSkip.IfNotPermitted();
        var c = CrossCheckManifest.Find(id);
        SkipUnlessMet(c);
        var obj = ElfObjectReader.Load(c.ObjectPath);
        var report = CrossCheck.Run(obj, c.PcapPath, Options(c) with { CompareMapsAfterEachPacket = true });

        if (c.ExpectedFailureKind is not null)
        {
            CheckExpectedFailure(c, obj, report);
            return;
        }

        Assert.True(report.KernelRefusal is null, $"{c.Id}: the kernel refused it: {report.KernelRefusal}");
        CheckKernelAgainstManifest(c, report);
        Assert.True(report.VmRefusal is null, $"{c.Id}: the kernel loads it, we refused it: {report.VmRefusal}");
        Assert.True(report.Agrees, $"{c.Id}:\n{report.Summary}");
    }

    internal static CrossCheckOptions Options(CrossCheckCase c) => new()
    {
        Program = c.Program,
        InitialMapsJson = c.MapsJson,
        Ifindex = c.Ifindex,
        RxQueue = c.RxQueue,
        Environment = c.Environment,
        Skips = c.Skips,
        InitializeMaps = c.UserRingbuf is { } records ? (vm, kernel) => UserRingbufRecord.Produce(records, vm, kernel) : null,
    };

    internal static void SkipUnlessMet(CrossCheckCase c)
    {
        foreach (string need in c.Needs)
        {
            if (need.StartsWith("cpus>=", StringComparison.Ordinal))
            {
                int cpus = int.Parse(need["cpus>=".Length..], CultureInfo.InvariantCulture);
                Skip.If(KernelObject.PossibleCpus < cpus, $"{c.Id} needs {cpus} CPUs; this machine has {KernelObject.PossibleCpus}");
            }
        }

        if (c.Environment is not null || c.DevBound is not null)
        {
            Skip.IfNot(KernelNetns.IsAvailable(out string why), $"{c.Id} needs a network namespace: {why}");
        }
    }

    // The kernel side must give the verdicts the manifest recorded from this kernel; otherwise the environment we
    // gave it is not the one the verdicts were recorded in, and an agreement would prove little.
    private static void CheckKernelAgainstManifest(CrossCheckCase c, CrossCheckReport report)
    {
        Assert.NotNull(c.Expected);
        Assert.Equal(c.Expected.Count, report.Packets.Count);
        for (int i = 0; i < c.Expected.Count; i++)
        {
            var k = report.Packets[i].Kernel;
            string got = k.Error is not null ? $"error:{k.Errno}" : k.Retval switch
            {
                0 => "XDP_ABORTED",
                1 => "XDP_DROP",
                2 => "XDP_PASS",
                3 => "XDP_TX",
                4 => "XDP_REDIRECT",
                _ => k.Retval?.ToString(CultureInfo.InvariantCulture) ?? "none",
            };
            Assert.True(c.Expected[i] == got, $"{c.Id}: packet {i}: the manifest recorded {c.Expected[i]} from the kernel, the kernel now gives {got}");
        }
    }

    private static void CheckExpectedFailure(CrossCheckCase c, BpfObject obj, CrossCheckReport report)
    {
        switch (c.ExpectedFailureKind)
        {
            case "kernel-test-run-refused":
                // Unbound, Linux refuses to load it; we refuse it as Linux does.
                Assert.NotNull(report.KernelRefusal);
                Assert.Contains("device-bound", report.KernelRefusal, StringComparison.Ordinal);
                Assert.True(report.VmRefusal is not null, $"{c.Id}: the kernel refuses it unbound, we loaded it");
                Assert.True(report.Agrees, report.Summary);
                Assert.NotNull(c.DevBound);
                AssertDevBoundTestRunRefused(c, obj);
                break;
            default:
                Assert.Fail($"{c.Id}: unknown expectedFailure kind \"{c.ExpectedFailureKind}\" ({c.ExpectedFailureReason})");
                break;
        }
    }

    // As the reason says: loaded bound to the device (BPF_F_XDP_DEV_BOUND_ONLY, prog_ifindex), the program loads, and
    // BPF_PROG_TEST_RUN refuses it with -EINVAL.
    private static void AssertDevBoundTestRunRefused(CrossCheckCase c, BpfObject obj)
    {
        const uint XdpDevBoundOnly = 1u << 6;
        var spec = obj.FindProgram(c.Program)!;
        var slots = spec.Slots.ToArray();
        foreach (var k in spec.Kfuncs)
        {
            uint idInVmlinux = KernelBtf.VmlinuxFuncId(k.Name) ?? throw new InvalidOperationException($"{k.Name} is not in vmlinux BTF");
            slots[k.Slot] = new Instruction(slots[k.Slot].Opcode, slots[k.Slot].Regs, 0, (int)idInVmlinux);
        }

        using var ns = CrossCheckNamespace.Create(c.Environment!);
        uint ifindex = DeviceIfindex(c.EnvironmentName, c.DevBound!);
        using var fd = BpfSyscall.ProgLoad(new ProgLoadRequest
        {
            Type = ProgramType.Xdp,
            Instructions = slots,
            License = spec.License,
            Name = spec.Name,
            Flags = XdpDevBoundOnly,
            Ifindex = ifindex,
        }).Fd;
        var e = Assert.Throws<KernelBpfException>(() => BpfSyscall.ProgTestRun(fd, new TestRunRequest { Data = CorpusKernelTests.UdpFrame() }));
        Assert.Equal(VethXdp.Vm.Maps.Errno.EINVAL, e.Errno);
        Assert.Contains("EINVAL", c.ExpectedFailureReason, StringComparison.Ordinal);
    }

    private static uint DeviceIfindex(string environment, string device)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.CorpusDir, "manifest.json")));
        foreach (var d in doc.RootElement.GetProperty("environments").GetProperty(environment).GetProperty("devices").EnumerateArray())
        {
            if (d.GetProperty("name").GetString() == device)
            {
                return d.GetProperty("ifindex").GetUInt32();
            }
        }

        throw new InvalidOperationException($"environment {environment} has no device {device}");
    }
}
