using System.Globalization;
using System.Text;
using System.Text.Json;
using VethXdp.Devices.Napi;
using VethXdp.Devices.Nic;
using VethXdp.Devices.Veth;

namespace VethXdp.Devices;

/// <summary>What one simulation did: every device's counters, where the frames ended, the rate, the conservation
/// check and the diagnosis.</summary>
public sealed class SimResult
{
    private SimResult(string scenario)
    {
        Scenario = scenario;
    }

    /// <summary>The scenario's name.</summary>
    public string Scenario { get; }

    /// <summary>Per device, in ifindex order (loopback excluded unless it saw traffic).</summary>
    public IReadOnlyList<DeviceCounters> Devices { get; private set; } = [];

    /// <summary>Frames that ended as drops, by reason (only reasons that occurred).</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Drops { get; private set; } = [];

    /// <summary>Frames that reached the stack.</summary>
    public long Stack { get; private set; }

    /// <summary>Frames that went out on a wire.</summary>
    public long Wire { get; private set; }

    /// <summary>Frames the source generated.</summary>
    public long Generated { get; private set; }

    /// <summary>Frames broadcast clones added.</summary>
    public long Cloned { get; private set; }

    /// <summary>Frames still in rings when the run stopped (no NAPI will poll them).</summary>
    public long InFlight { get; private set; }

    /// <summary>Tracepoint hits.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Tracepoints { get; private set; } = [];

    /// <summary>Wall-clock time.</summary>
    public TimeSpan Elapsed { get; private set; }

    /// <summary>Lock-step rounds.</summary>
    public long Rounds { get; private set; }

    /// <summary>Million frames generated per wall-clock second.</summary>
    public double Mpps => Elapsed.TotalSeconds > 0 ? Generated / Elapsed.TotalSeconds / 1e6 : 0;

    /// <summary>Every generated (or cloned) frame ended in exactly one place or is accounted in flight.</summary>
    public bool Conserved { get; private set; }

    /// <summary>The AF_XDP report, or null when the world has no sockets.</summary>
    public Xsk.XskReport? Xsk { get; private set; } // xsk:

    /// <summary>The programs the world ran (attached ones, then devmap egress ones) and the engine each ran on.</summary>
    public IReadOnlyList<SimProgram> Programs { get; private set; } = [];

    /// <summary>Why frames were lost to configuration, in plain words.</summary>
    public IReadOnlyList<string> Diagnosis { get; private set; } = [];

    internal static SimResult Collect(SimWorld world, string scenario, TimeSpan elapsed, long rounds)
    {
        var r = new SimResult(scenario) { Elapsed = elapsed, Rounds = rounds, Programs = [.. world.Programs] };
        var ends = new long[FrameEnds.Count];
        var trace = new long[5];
        int devs = world.Devices.Count;
        var redirectErr = new long[world.Cpu(0).RedirectErrors.Length];
        var xmitErr = new long[world.Cpu(0).XmitErrors.Length];
        long inUse = 0;
        for (int c = 0; c < world.CpuCount; c++)
        {
            var cpu = world.Cpu(c);
            for (int i = 0; i < ends.Length; i++)
            {
                ends[i] += cpu.Ends[i];
            }

            for (int i = 0; i < trace.Length; i++)
            {
                trace[i] += cpu.TraceCounts[i];
            }

            for (int i = 0; i < redirectErr.Length; i++)
            {
                redirectErr[i] += cpu.RedirectErrors[i];
            }

            for (int i = 0; i < xmitErr.Length; i++)
            {
                xmitErr[i] += cpu.XmitErrors[i];
            }

            r.Generated += cpu.Generated;
            r.Cloned += cpu.Cloned;
            inUse += world.Pool.InUse(c);
        }

        var drops = new List<KeyValuePair<string, long>>();
        for (int i = 0; i < ends.Length; i++)
        {
            var end = (FrameEnd)i;
            if (FrameEnds.IsDrop(end) && ends[i] > 0)
            {
                drops.Add(new(FrameEnds.Name(end), ends[i]));
            }
        }

        r.Drops = drops;
        r.Stack = ends[(int)FrameEnd.Stack];
        r.Wire = ends[(int)FrameEnd.Wire];
        r.InFlight = inUse;
        long ended = 0;
        foreach (long e in ends)
        {
            ended += e;
        }

        r.Xsk = world.Xsk is null ? null : VethXdp.Devices.Xsk.XskReport.Collect(world); // xsk:
        r.Conserved = ended + inUse == r.Generated + r.Cloned + (r.Xsk?.Transmitted ?? 0); // xsk: + frames user space sent
        string[] traceNames = ["xdp:xdp_exception", "xdp:xdp_redirect", "xdp:xdp_redirect_err", "xdp:xdp_devmap_xmit(drops)", "xdp:xdp_bulk_tx(drops)"];
        r.Tracepoints = [.. traceNames.Select((n, i) => new KeyValuePair<string, long>(n, trace[i]))];
        var devices = new List<DeviceCounters>();
        foreach (var d in world.Devices)
        {
            if (d is LoopbackDevice lo && lo.Packets == 0 && lo.Dropped == 0)
            {
                continue;
            }

            devices.Add(d.Snapshot());
        }

        r.Devices = devices;
        r.Diagnosis = Diagnose(world, redirectErr, xmitErr, r, inUse);
        return r;
    }

    private static List<string> Diagnose(SimWorld world, long[] redirectErr, long[] xmitErr, SimResult r, long inUse)
    {
        var list = new List<string>();
        int devs = world.Devices.Count;
        int slots = NapiContext.ErrnoSlots;
        for (int rx = 0; rx < devs; rx++)
        {
            for (int t = 0; t <= devs; t++)
            {
                for (int s = 0; s < slots; s++)
                {
                    long n = redirectErr[(((rx * (devs + 1)) + t) * slots) + s];
                    if (n == 0)
                    {
                        continue;
                    }

                    var from = world.Devices[rx];
                    var target = t == 0 ? null : world.Devices[t - 1];
                    list.Add(RedirectMessage(world, from, target, NapiContext.ErrnoOf(s), n));
                }
            }
        }

        for (int t = 0; t < devs; t++)
        {
            for (int s = 0; s < slots; s++)
            {
                long n = xmitErr[(t * slots) + s];
                if (n == 0)
                {
                    continue;
                }

                var target = world.Devices[t];
                int errno = NapiContext.ErrnoOf(s);
                if (errno == Vm.Maps.Errno.ENXIO && target is VethDevice { Peer: { } peer })
                {
                    list.Add(Inv($"{target.Name}: {n} redirected frames dropped: peer {peer.Name} has no XDP program, so its NAPI is not running; attach one, or enable GRO on {peer.Name} (Linux ≥ 5.13) (veth_xdp_xmit: -ENXIO at flush; xdp:xdp_devmap_xmit)"));
                }
                else if (errno == 0)
                {
                    list.Add(Inv($"{target.Name}: {n} redirected frames refused by ndo_xdp_xmit (receive ring full or frame over the peer's MTU; tx_queue_N_xdp_xmit_errors)"));
                }
                else
                {
                    list.Add(Inv($"{target.Name}: {n} redirected frames dropped: ndo_xdp_xmit failed with -{ErrnoName(errno)}"));
                }
            }
        }

        foreach (var d in world.Devices)
        {
            if (d is VethDevice v)
            {
                foreach (var q in v.Rq)
                {
                    if (q.Ring.Count > 0)
                    {
                        list.Add(Inv($"{v.Name}: {q.Ring.Count} frames left in rx queue {q.Index}: nothing scheduled its NAPI (XDP_TX towards a peer whose NAPI runs for GRO only is not kicked)"));
                    }
                }
            }
        }

        foreach (var i in world.Instances)
        {
            if (i.Faults > 0)
            {
                list.Add(Inv($"{i.Name}: {i.Faults} runs faulted and counted as XDP_ABORTED; first: {i.FirstFault}"));
            }
        }

        if (r.Xsk is { } xsk)
        {
            list.AddRange(xsk.Diagnosis); // xsk:
        }

        if (!r.Conserved)
        {
            list.Add(Inv($"conservation violated: {r.Generated} generated + {r.Cloned} cloned != ends + {inUse} in flight"));
        }

        return list;
    }

    private static string RedirectMessage(SimWorld world, NetDevice from, NetDevice? target, int errno, long n)
    {
        if (target is VethDevice { Peer: { } peer } && errno == Vm.Maps.Errno.EOPNOTSUPP)
        {
            return Inv($"{target.Name}: {n} redirected frames dropped: peer {peer.Name} has no XDP program, so its NAPI is not running; attach one, or enable GRO on {peer.Name} (Linux ≥ 5.13) (xdp_do_redirect from {from.Name}: -EOPNOTSUPP, {target.Name} does not advertise NETDEV_XDP_ACT_NDO_XMIT; only the xdp:xdp_redirect_err tracepoint sees it)");
        }

        string why = errno switch
        {
            Vm.Maps.Errno.EOPNOTSUPP => target is null ? "the target cannot be redirected to (cpumap and xskmap targets are not simulated)" : $"{target.Name} does not support ndo_xdp_xmit",
            Vm.Maps.Errno.EMSGSIZE => $"frames longer than {target?.Name}'s MTU + 18",
            NapiContext.ENETDOWN => $"{target?.Name} is down",
            Vm.Maps.Errno.EINVAL => target is null ? "bpf_redirect to an ifindex with no device (or BPF_F_BROADCAST on a kernel without it)" : "invalid redirect",
            NapiContext.EBADRQC => "the program returned XDP_REDIRECT without a successful bpf_redirect or bpf_redirect_map",
            Vm.Maps.Errno.ENOMEM => "no free frame for a broadcast clone",
            _ => "xdp_do_redirect failed",
        };
        return Inv($"{from.Name}: {n} frames dropped at redirect{(target is null ? "" : " to " + target.Name)}: {why} (-{ErrnoName(errno)}; xdp:xdp_redirect_err)");
    }

    private static string ErrnoName(int errno) => errno switch
    {
        Vm.Maps.Errno.EOPNOTSUPP => "EOPNOTSUPP",
        Vm.Maps.Errno.ENXIO => "ENXIO",
        Vm.Maps.Errno.EINVAL => "EINVAL",
        Vm.Maps.Errno.EMSGSIZE => "EMSGSIZE",
        NapiContext.ENETDOWN => "ENETDOWN",
        NapiContext.EBADRQC => "EBADRQC",
        Vm.Maps.Errno.ENOMEM => "ENOMEM",
        Vm.Maps.Errno.ENODEV => "ENODEV",
        _ => errno.ToString(CultureInfo.InvariantCulture),
    };

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>The result as one line of JSON (the <c>--json</c> format); <paramref name="withRate"/> false leaves out
    /// the timing (for expected files).</summary>
    public string ToJson(bool withRate = true)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("scenario", Scenario);
            w.WriteStartObject("devices");
            foreach (var d in Devices)
            {
                w.WriteStartObject(d.Name);
                w.WriteString("kind", d.Kind);
                WriteQueues(w, "rx_queues", d.RxQueues);
                WriteQueues(w, "tx_queues", d.TxQueues);
                w.WriteStartObject("totals");
                foreach (var kv in d.Totals.Items)
                {
                    w.WriteNumber(kv.Key, kv.Value);
                }

                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteStartObject("drops");
            foreach (var kv in Drops)
            {
                w.WriteNumber(kv.Key, kv.Value);
            }

            w.WriteEndObject();
            w.WriteStartObject("delivered");
            w.WriteNumber("stack", Stack);
            w.WriteNumber("wire", Wire);
            w.WriteEndObject();
            w.WriteNumber("generated", Generated);
            w.WriteNumber("cloned", Cloned);
            w.WriteNumber("in_flight", InFlight);
            w.WriteStartObject("tracepoints");
            foreach (var kv in Tracepoints)
            {
                w.WriteNumber(kv.Key, kv.Value);
            }

            w.WriteEndObject();
            if (withRate)
            {
                w.WriteNumber("mpps", Math.Round(Mpps, 3));
                w.WriteNumber("seconds", Math.Round(Elapsed.TotalSeconds, 4));
            }

            w.WriteStartArray("programs");
            foreach (var p in Programs)
            {
                w.WriteStartObject();
                w.WriteString("device", p.Device);
                w.WriteString("mode", p.Mode);
                w.WriteString("object", p.ObjectName);
                w.WriteString("program", p.ProgramName);
                w.WriteString("engine", p.Engine);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            Xsk?.WriteJson(w); // xsk: "sockets" and "xsk"
            w.WriteBoolean("conserved", Conserved);
            w.WriteStartArray("diagnosis");
            foreach (var s in Diagnosis)
            {
                w.WriteStringValue(s);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static void WriteQueues(Utf8JsonWriter w, string name, IReadOnlyList<Counters> queues)
    {
        w.WriteStartArray(name);
        foreach (var q in queues)
        {
            w.WriteStartObject();
            foreach (var kv in q.Items)
            {
                w.WriteNumber(kv.Key, kv.Value);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    /// <summary>The result as text: per device the non-zero ethtool -S lines and the ip -s link totals, then the
    /// frame ends, rate, conservation and diagnosis.</summary>
    public string ToText()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"scenario {Scenario}: {Generated} frames in {Elapsed.TotalSeconds:F3} s = {Mpps:F3} Mpps ({Rounds} rounds)\n");
        foreach (var p in Programs)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  program {p.ObjectName}/{p.ProgramName} on {p.Device} ({p.Mode}): engine {p.Engine}\n");
        }

        foreach (var d in Devices)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  {d.Name} ({d.Kind}): rx {d.Totals["rx_packets"]} pkts {d.Totals["rx_bytes"]} B dropped {d.Totals["rx_dropped"]}; tx {d.Totals["tx_packets"]} pkts {d.Totals["tx_bytes"]} B dropped {d.Totals["tx_dropped"]}\n");
            AppendQueues(sb, "rx_queue", d.RxQueues);
            AppendQueues(sb, "tx_queue", d.TxQueues);
        }

        sb.Append(CultureInfo.InvariantCulture, $"  ends: stack {Stack}, wire {Wire}");
        foreach (var kv in Drops)
        {
            sb.Append(CultureInfo.InvariantCulture, $", {kv.Key} {kv.Value}");
        }

        sb.Append(CultureInfo.InvariantCulture, $"; in flight {InFlight}; cloned {Cloned}\n");
        sb.Append(Xsk?.ToText()); // xsk:
        sb.Append("  conservation: ").Append(Conserved ? "ok" : "VIOLATED").Append('\n');
        foreach (var s in Diagnosis)
        {
            sb.Append("  diagnosis: ").Append(s).Append('\n');
        }

        return sb.ToString();
    }

    private static void AppendQueues(StringBuilder sb, string prefix, IReadOnlyList<Counters> queues)
    {
        for (int i = 0; i < queues.Count; i++)
        {
            foreach (var kv in queues[i].Items)
            {
                if (kv.Value != 0)
                {
                    sb.Append(CultureInfo.InvariantCulture, $"    {prefix}_{i}_{kv.Key}: {kv.Value}\n");
                }
            }
        }
    }
}
