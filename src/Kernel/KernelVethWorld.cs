using System.Buffers.Binary;
using System.Text.Json;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Xdp;

namespace VethXdp.Kernel;

/// <summary>Builds a <see cref="KernelVethSpec"/> topology on the running kernel, in a network namespace of its own,
/// feeds it frames the way our kernel measurement of the paper's tests did, and reads back every device's counters.</summary>
/// <remarks>
/// <para>In order, on one thread that has entered the namespace and is pinned to CPU 0: veth pairs and dummy devices
/// (up; a NIC's stand-in is a veth end whose peer is named NAMEp), GRO, each object loaded once, devmap entries (device names as their ifindexes), programs attached with
/// BPF_LINK_CREATE (attach type BPF_XDP, XDP_FLAGS_DRV_MODE or XDP_FLAGS_SKB_MODE). Then BPF_PROG_TEST_RUN with
/// BPF_F_TEST_XDP_LIVE_FRAMES runs the source program on each frame <c>repeat</c> times, in batches of 64 (a NAPI
/// budget), with ingress_ifindex = the source's device: what it redirects really goes through the devmap's bulk
/// queue into the veth's ndo_xdp_xmit and the peer's NAPI. When the counters have stopped moving, ETHTOOL_GSTATS and
/// <c>ip -s link</c> are read for every device, and the object's maps dumped.</para>
/// <para>Needs root, bpf(), network namespaces and iproute2's <c>ip</c>; <see cref="IsAvailable"/> says why not.
/// Everything is deleted afterwards (the namespace with its devices, the links, the objects).</para>
/// </remarks>
public static class KernelVethWorld
{
    /// <summary>XDP_FLAGS_SKB_MODE.</summary>
    public const uint XdpFlagsSkbMode = 1u << 1;

    /// <summary>XDP_FLAGS_DRV_MODE.</summary>
    public const uint XdpFlagsDrvMode = 1u << 2;

    /// <summary>BPF_LINK_CREATE (enum bpf_cmd).</summary>
    public const int LinkCreateCommand = 28;

    /// <summary>True when bpf() is permitted and network namespaces can be made here; <paramref name="reason"/> says
    /// why not.</summary>
    /// <param name="reason">Why not, or "ok".</param>
    public static bool IsAvailable(out string reason)
    {
        if (!KernelProbe.IsBpfPermitted(out reason))
        {
            reason = $"bpf() is not permitted here: {reason}";
            return false;
        }

        if (!KernelNetns.IsAvailable(out reason))
        {
            reason = $"network namespaces are not available here: {reason}";
            return false;
        }

        reason = "ok";
        return true;
    }

    /// <summary>Builds <paramref name="spec"/>, runs the source program on each of <paramref name="frames"/>
    /// <paramref name="repeat"/> times with live frames, and returns the counters.</summary>
    /// <param name="spec">The topology.</param>
    /// <param name="frames">The frames, each run <paramref name="repeat"/> times in turn.</param>
    /// <param name="repeat">Runs per frame.</param>
    /// <returns>The counters, or why the kernel could not be asked.</returns>
    /// <exception cref="ArgumentException">The spec names an object, program, map or device it does not have.</exception>
    public static KernelVethResult Run(KernelVethSpec spec, IReadOnlyList<ReadOnlyMemory<byte>> frames, uint repeat)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(frames);
        if (!IsAvailable(out string reason))
        {
            return Failed(reason);
        }

        // Work on a thread of our own: it enters the namespace and is pinned, and both end with it.
        KernelVethResult? result = null;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = RunInNamespace(spec, frames, repeat);
            }
            catch (Exception e) when (e is InvalidOperationException or KernelBpfException or ArgumentException or IOException
                or UnauthorizedAccessException or System.ComponentModel.Win32Exception or JsonException)
            {
                error = e;
            }
        })
        { Name = "vethxdp-kernel-veth" };
        thread.Start();
        thread.Join();
        if (error is ArgumentException bad)
        {
            throw new ArgumentException(bad.Message, nameof(spec), bad);
        }

        return error is not null ? Failed($"{error.GetType().Name}: {error.Message}") : result!;
    }

    private static KernelVethResult Failed(string reason) =>
        new(reason, new Dictionary<string, KernelDeviceStats>(), new Dictionary<string, IReadOnlyList<KernelMapEntry>>());

    private static KernelVethResult RunInNamespace(KernelVethSpec spec, IReadOnlyList<ReadOnlyMemory<byte>> frames, uint repeat)
    {
        // IPv6 off before any device exists: a link coming up would send its own MLD and router solicitation frames,
        // which the counters would see. A NIC's stand-in is one end of a veth pair of its own (the other end NAMEp):
        // kernels may lack the dummy driver.
        using var ns = KernelNetns.Create(new NetnsSpec());
        Sysctl(ns, "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
        foreach (var v in (IEnumerable<VethPairSpec>)[.. spec.Veths, .. spec.Dummies.Select(d => new VethPairSpec(d, d + "p"))])
        {
            ns.In("link", "add", v.Name, "type", "veth", "peer", "name", v.Peer);
            ns.In("link", "set", v.Name, "up");
            ns.In("link", "set", v.Peer, "up");
        }

        var devices = new List<string>();
        foreach (var v in spec.Veths)
        {
            devices.Add(v.Name);
            devices.Add(v.Peer);
        }

        devices.AddRange(spec.Dummies);
        var ifindex = new Dictionary<string, uint>();
        foreach (string d in devices)
        {
            ifindex[d] = ns.Ifindex(d);
        }

        using var pin = CpuTopology.PinCurrentThread(0);
        using var scope = ns.Enter();
        foreach (string d in spec.Gro)
        {
            KernelEthtool.SetGro(d, on: true);
        }

        var objects = new Dictionary<string, KernelObject>();
        var links = new List<BpfFd>();
        try
        {
            foreach (var (name, obj) in spec.Objects)
            {
                try
                {
                    objects[name] = KernelObject.Load(obj, new KernelLoadOptions { Cpu = 0 });
                }
                catch (KernelBpfException e)
                {
                    return Failed($"the kernel refused object {name}: {e.Message}");
                }
            }

            foreach (var e in spec.DevmapEntries)
            {
                var kernel = Object(objects, e.Object);
                var key = new byte[4];
                BinaryPrimitives.WriteUInt32LittleEndian(key, uint.TryParse(e.Key, out uint k) ? k : Ifindex(ifindex, e.Key));
                var value = new byte[kernel.UserValueSize(e.Map)];
                BinaryPrimitives.WriteUInt32LittleEndian(value, Ifindex(ifindex, e.Value));
                kernel.UpdateMap(e.Map, key, value);
            }

            foreach (var a in spec.Attach)
            {
                links.Add(AttachXdp(Object(objects, a.Object).ProgramFd(a.Program), Ifindex(ifindex, a.Device), a.Generic));
            }

            var source = Object(objects, spec.Source.Object).ProgramFd(spec.Source.Program);
            uint ingress = Ifindex(ifindex, spec.Source.Device);
            foreach (var frame in frames)
            {
                var ctx = new byte[XdpMd.Size];
                BinaryPrimitives.WriteUInt32LittleEndian(ctx.AsSpan(XdpMd.DataEnd), (uint)frame.Length);
                BinaryPrimitives.WriteUInt32LittleEndian(ctx.AsSpan(XdpMd.IngressIfindex), ingress);
                BpfSyscall.ProgTestRun(source, new TestRunRequest
                {
                    Data = frame,
                    DataOutCapacity = 0,
                    Context = ctx,
                    ContextOutCapacity = 0,
                    Repeat = repeat,
                    Flags = BpfFlags.TestXdpLiveFrames,
                    BatchSize = 64,
                });
            }

            var stats = Settle(ns, devices, ifindex);
            var maps = new Dictionary<string, IReadOnlyList<KernelMapEntry>>();
            foreach (var (name, kernel) in objects)
            {
                foreach (var m in kernel.Maps)
                {
                    maps[name + "/" + m.Name] = kernel.DumpMap(m.Name);
                }
            }

            return new KernelVethResult(null, stats, maps);
        }
        catch (KernelBpfException e)
        {
            return Failed(e.Message);
        }
        finally
        {
            foreach (var l in links)
            {
                l.Dispose();
            }

            foreach (var o in objects.Values)
            {
                o.Dispose();
            }
        }
    }

    // The peers' NAPI runs in softirq context, maybe after the syscall returned: read until two reads agree.
    private static Dictionary<string, KernelDeviceStats> Settle(KernelNetns ns, List<string> devices, Dictionary<string, uint> ifindex)
    {
        var last = Read(ns, devices, ifindex);
        for (int i = 0; i < 50; i++)
        {
            Thread.Sleep(20);
            var now = Read(ns, devices, ifindex);
            if (Same(last, now))
            {
                return now;
            }

            last = now;
        }

        return last;
    }

    private static bool Same(Dictionary<string, KernelDeviceStats> a, Dictionary<string, KernelDeviceStats> b)
    {
        foreach (var (name, s) in a)
        {
            var t = b[name];
            if (!s.Stats64.OrderBy(kv => kv.Key).SequenceEqual(t.Stats64.OrderBy(kv => kv.Key))
                || !s.Ethtool.OrderBy(kv => kv.Key).SequenceEqual(t.Ethtool.OrderBy(kv => kv.Key)))
            {
                return false;
            }
        }

        return true;
    }

    private static Dictionary<string, KernelDeviceStats> Read(KernelNetns ns, List<string> devices, Dictionary<string, uint> ifindex)
    {
        var result = new Dictionary<string, KernelDeviceStats>();
        using var doc = JsonDocument.Parse(ns.In("-s", "-j", "link", "show"));
        foreach (string d in devices)
        {
            var ethtool = new Dictionary<string, ulong>();
            foreach (var kv in KernelEthtool.Statistics(d))
            {
                ethtool[kv.Key] = kv.Value;
            }

            var stats = new Dictionary<string, ulong>();
            foreach (var link in doc.RootElement.EnumerateArray())
            {
                if (link.GetProperty("ifname").GetString() != d || !link.TryGetProperty("stats64", out var s64))
                {
                    continue;
                }

                foreach (var (dir, el) in new[] { ("rx", s64.GetProperty("rx")), ("tx", s64.GetProperty("tx")) })
                {
                    stats[dir + "_packets"] = el.GetProperty("packets").GetUInt64();
                    stats[dir + "_bytes"] = el.GetProperty("bytes").GetUInt64();
                    stats[dir + "_dropped"] = el.GetProperty("dropped").GetUInt64();
                }
            }

            result[d] = new KernelDeviceStats(d, ifindex[d], ethtool, stats);
        }

        return result;
    }

    /// <summary>BPF_LINK_CREATE of an XDP program on <paramref name="ifindex"/> in the calling thread's namespace; the
    /// program stays attached while the returned link is open.</summary>
    /// <param name="program">The program.</param>
    /// <param name="ifindex">The device.</param>
    /// <param name="generic">Generic (SKB) mode rather than native (driver) mode.</param>
    /// <exception cref="KernelBpfException">The kernel refused.</exception>
    public static unsafe BpfFd AttachXdp(BpfFd program, uint ifindex, bool generic)
    {
        ArgumentNullException.ThrowIfNull(program);

        // union bpf_attr, link_create: u32 prog_fd; u32 target_ifindex; u32 attach_type; u32 flags; (rest zero)
        var attr = stackalloc uint[16];
        new Span<uint>(attr, 16).Clear();
        attr[0] = (uint)program.Value;
        attr[1] = ifindex;
        attr[2] = BpfFlags.AttachXdp;
        attr[3] = generic ? XdpFlagsSkbMode : XdpFlagsDrvMode;
        long fd = BpfSyscall.Invoke((BpfCommand)LinkCreateCommand, attr, 16 * sizeof(uint));
        if (fd < 0)
        {
            throw new KernelBpfException((BpfCommand)LinkCreateCommand, (int)-fd);
        }

        return new BpfFd((int)fd);
    }

    private static void Sysctl(KernelNetns ns, params string[] settings)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in (string[])["netns", "exec", ns.Name, "sysctl", "-qw", .. settings])
        {
            psi.ArgumentList.Add(a);
        }

        using var p = System.Diagnostics.Process.Start(psi) ?? throw new InvalidOperationException("cannot start ip");
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"sysctl {string.Join(' ', settings)} in {ns.Name}: {err.Trim()}");
        }
    }

    private static KernelObject Object(Dictionary<string, KernelObject> objects, string name) =>
        objects.TryGetValue(name, out var o) ? o : throw new ArgumentException($"no object named {name}", nameof(name));

    private static uint Ifindex(Dictionary<string, uint> ifindex, string device) =>
        ifindex.TryGetValue(device, out uint i) ? i : throw new ArgumentException($"no device named {device}", nameof(device));
}
