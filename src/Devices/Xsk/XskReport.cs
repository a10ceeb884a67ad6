using System.Globalization;
using System.Text;
using System.Text.Json;
using VethXdp.Devices.Veth;
using VethXdp.Vm.Maps;

namespace VethXdp.Devices.Xsk;

/// <summary>The AF_XDP part of a simulation result: per-socket XDP_STATISTICS, where socket-bound frames were
/// dropped and why, what the applications did.</summary>
public sealed class XskReport
{
    private XskReport()
    {
    }

    /// <summary>Per socket: its name and XDP_STATISTICS.</summary>
    public IReadOnlyList<KeyValuePair<string, XskStatistics>> Sockets { get; private set; } = [];

    /// <summary>Frames put on RX rings.</summary>
    public long Received { get; private set; }

    /// <summary>Frames user space transmitted through TX rings.</summary>
    public long Transmitted { get; private set; }

    /// <summary>Drops of frames bound for sockets, by reason (fill_ring_empty, rx_ring_full, frame_too_long,
    /// wrong_queue, not_bound, no_socket_in_slot).</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Drops { get; private set; } = [];

    /// <summary>Per application: its counters.</summary>
    public IReadOnlyList<KeyValuePair<string, Counters>> Apps { get; private set; } = [];

    /// <summary>Why frames bound for sockets were lost, in plain words.</summary>
    public IReadOnlyList<string> Diagnosis { get; private set; } = [];

    /// <summary>Collects the report of <paramref name="world"/>'s hub.</summary>
    public static XskReport Collect(SimWorld world)
    {
        ArgumentNullException.ThrowIfNull(world);
        var hub = world.Xsk ?? throw new InvalidOperationException("the world has no AF_XDP sockets");
        var r = new XskReport { Transmitted = hub.Transmitted };
        var sockets = new List<KeyValuePair<string, XskStatistics>>();
        long noChunk = 0, full = 0, tooLong = 0, wrongQ = 0, unbound = 0;
        var diag = new List<string>();
        foreach (var s in hub.Sockets)
        {
            var st = s.Statistics;
            sockets.Add(new(s.Name ?? s.Fd.ToString(CultureInfo.InvariantCulture), st));
            r.Received += (long)s.RxFrames;
            noChunk += (long)s.RxNoChunk;
            tooLong += (long)(s.RxDropped - s.RxNoChunk);
            full += (long)s.RxQueueFull;
            wrongQ += (long)s.RxWrongQueue;
            unbound += (long)s.RxNotBound;
            if (s.RxNoChunk > 0)
            {
                diag.Add(Inv($"socket {s.Name}: {s.RxNoChunk} frames dropped: the fill ring was empty (rx_dropped, rx_fill_ring_empty_descs {st.RxFillRingEmptyDescs}); user space must give chunks back to the fill ring faster"));
            }

            if (s.RxQueueFull > 0)
            {
                diag.Add(Inv($"socket {s.Name}: {s.RxQueueFull} frames dropped: the RX ring was full (rx_ring_full); user space must consume faster or use a bigger RX ring"));
            }

            if (s.RxWrongQueue > 0)
            {
                diag.Add(Inv($"socket {s.Name}: {s.RxWrongQueue} frames dropped: redirected from another device or queue than the socket is bound to ({s.Device?.Name} queue {s.QueueId}); xsk_rcv_check: -EINVAL, xdp:xdp_redirect_err"));
            }

            if (s.RxNotBound > 0)
            {
                diag.Add(Inv($"socket {s.Name}: {s.RxNotBound} frames dropped: the socket is not bound (xsk_rcv_check: -ENXIO)"));
            }
        }

        long noSocket = NoSocketDrops(world, diag);
        var drops = new List<KeyValuePair<string, long>>();
        void Add(string n, long v)
        {
            if (v > 0)
            {
                drops.Add(new(n, v));
            }
        }

        Add("fill_ring_empty", noChunk);
        Add("rx_ring_full", full);
        Add("frame_too_long", tooLong);
        Add("wrong_queue", wrongQ);
        Add("not_bound", unbound);
        Add("no_socket_in_slot", noSocket);
        r.Drops = drops;
        r.Sockets = sockets;
        r.Apps = [.. hub.Apps.Select(a => new KeyValuePair<string, Counters>(a.Name, a is XskSwitch sw ? sw.Snapshot() : new Counters()))];
        r.Diagnosis = diag;
        return r;
    }

    // Frames a program dropped on a veth queue whose XSKMAP slot (keyed by the queue, as AF_XDP programs do) is empty:
    // bpf_redirect_map fell back to its flags' verdict. Linux counts these only as the queue's xdp_drops.
    private static long NoSocketDrops(SimWorld world, List<string> diag)
    {
        long total = 0;
        foreach (var d in world.Devices)
        {
            if (d is not VethDevice v || v.Native is not { } att)
            {
                continue;
            }

            XskMap? xm = null;
            foreach (var m in world.ObjectsForXsk.First(o => o.Maps.Count > 0 && Contains(o, att)).Maps)
            {
                if (m is XskMap x)
                {
                    xm = x;
                }
            }

            if (xm is null)
            {
                continue;
            }

            foreach (var q in v.Rq)
            {
                if (q.XdpDrops > 0 && !xm.TryGetRedirectTarget((uint)q.Index, out _, out _))
                {
                    total += (long)q.XdpDrops;
                    diag.Add(Inv($"{v.Name}: {q.XdpDrops} frames dropped on rx queue {q.Index}: no socket in slot {q.Index} of XSKMAP {xm.Name}, so bpf_redirect_map returned its fallback verdict (rx_queue_{q.Index}_xdp_drops)"));
                }
            }
        }

        return total;
    }

    private static bool Contains(Vm.Runtime.LoadedObject o, XdpAttachment att)
    {
        foreach (var p in o.Programs)
        {
            if (p.Name == att.ProgramName)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Writes <c>"sockets": {NAME: {...}}</c> and <c>"xsk": {...}</c> into an open JSON object.</summary>
    public void WriteJson(Utf8JsonWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.WriteStartObject("sockets");
        foreach (var (name, s) in Sockets)
        {
            w.WriteStartObject(name);
            w.WriteNumber("rx_dropped", s.RxDropped);
            w.WriteNumber("rx_invalid_descs", s.RxInvalidDescs);
            w.WriteNumber("tx_invalid_descs", s.TxInvalidDescs);
            w.WriteNumber("rx_ring_full", s.RxRingFull);
            w.WriteNumber("rx_fill_ring_empty_descs", s.RxFillRingEmptyDescs);
            w.WriteNumber("tx_ring_empty_descs", s.TxRingEmptyDescs);
            w.WriteEndObject();
        }

        w.WriteEndObject();
        w.WriteStartObject("xsk");
        w.WriteNumber("received", Received);
        w.WriteNumber("transmitted", Transmitted);
        w.WriteStartObject("drops");
        foreach (var kv in Drops)
        {
            w.WriteNumber(kv.Key, kv.Value);
        }

        w.WriteEndObject();
        w.WriteStartObject("apps");
        foreach (var (name, c) in Apps)
        {
            w.WriteStartObject(name);
            foreach (var kv in c.Items)
            {
                w.WriteNumber(kv.Key, kv.Value);
            }

            w.WriteEndObject();
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>The report as text lines.</summary>
    public string ToText()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"  xsk: received {Received}, transmitted {Transmitted}");
        foreach (var kv in Drops)
        {
            sb.Append(CultureInfo.InvariantCulture, $", {kv.Key} {kv.Value}");
        }

        sb.Append('\n');
        foreach (var (name, s) in Sockets)
        {
            sb.Append(CultureInfo.InvariantCulture, $"    socket {name}: rx_dropped {s.RxDropped} rx_invalid_descs {s.RxInvalidDescs} tx_invalid_descs {s.TxInvalidDescs} rx_ring_full {s.RxRingFull} rx_fill_ring_empty_descs {s.RxFillRingEmptyDescs} tx_ring_empty_descs {s.TxRingEmptyDescs}\n");
        }

        foreach (var (name, c) in Apps)
        {
            sb.Append("    app ").Append(name).Append(':');
            foreach (var kv in c.Items)
            {
                sb.Append(CultureInfo.InvariantCulture, $" {kv.Key} {kv.Value}");
            }

            sb.Append('\n');
        }

        return sb.ToString();
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
