using System.Buffers.Binary;
using System.Net;
using VethXdp.Devices.Frames;
using VethXdp.Devices.Napi;
using VethXdp.Devices.Nic;

namespace VethXdp.Devices.Traffic;

/// <summary>The wire in front of a NIC: frame i of the run belongs to flow i % flows, and lands on the receive queue
/// RSS picks for that flow. Each round the source DMAs up to a NAPI weight of frames into every queue's ring (the
/// queue's owner CPU does it, so sources of different CPUs never touch the same ring), from templates built once.</summary>
public sealed unsafe class PacketSource
{
    private readonly byte[][] _templates;
    private readonly int[][] _queueFlows;
    // Per-queue state, one cache line per queue (Stride longs): queues owned by CPUs on different worker threads never
    // share a line.
    private const int Stride = 8;

    private readonly long[] _remaining;
    private readonly long[] _position;

    /// <summary>Builds the flows of <paramref name="spec"/> towards <paramref name="nic"/> for <paramref name="packets"/>
    /// frames.</summary>
    public PacketSource(PhysicalNic nic, TrafficSpec spec, long packets, IReadOnlyList<byte[]>? frames = null)
    {
        ArgumentNullException.ThrowIfNull(nic);
        ArgumentNullException.ThrowIfNull(spec);
        Nic = nic;
        Packets = packets;
        _templates = frames is { Count: > 0 } ? [.. frames] : BuildFlows(spec);
        int flows = _templates.Length;
        int queues = nic.Rx.Length;
        var lists = new List<int>[queues];
        for (int q = 0; q < queues; q++)
        {
            lists[q] = [];
        }

        FlowQueues = new int[flows];
        for (int f = 0; f < flows; f++)
        {
            int q = nic.SelectQueue(_templates[f]);
            FlowQueues[f] = q;
            lists[q].Add(f);
        }

        _queueFlows = new int[queues][];
        _remaining = new long[(queues + 1) * Stride];
        _position = new long[(queues + 1) * Stride];
        long full = packets / flows;
        long rest = packets % flows;
        for (int q = 0; q < queues; q++)
        {
            _queueFlows[q] = [.. lists[q]];
            long n = full * lists[q].Count;
            foreach (int f in lists[q])
            {
                if (f < rest)
                {
                    n++;
                }
            }

            _remaining[(q + 1) * Stride] = n;
        }
    }

    /// <summary>The NIC.</summary>
    public PhysicalNic Nic { get; }

    /// <summary>Frames in the run.</summary>
    public long Packets { get; }

    /// <summary>Each flow's frame, as the wire carries it.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Flows => [.. _templates.Select(t => (ReadOnlyMemory<byte>)t)];

    /// <summary>The queue RSS picked for each flow.</summary>
    public int[] FlowQueues { get; }

    /// <summary>True when a queue <paramref name="cpu"/> owns still has frames to receive.</summary>
    public bool HasRemaining(NapiContext cpu)
    {
        ArgumentNullException.ThrowIfNull(cpu);
        var rx = Nic.Rx;
        for (int q = cpu.Id; q < rx.Length; q += cpu.World.CpuCount)
        {
            if (_remaining[(q + 1) * Stride] > 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Frames still to come into the queues <paramref name="cpu"/> owns.</summary>
    public long FramesFor(NapiContext cpu)
    {
        ArgumentNullException.ThrowIfNull(cpu);
        long n = 0;
        for (int q = cpu.Id; q < Nic.Rx.Length; q += cpu.World.CpuCount)
        {
            n += _remaining[(q + 1) * Stride];
        }

        return n;
    }

    /// <summary>Receives the next frames into the queues <paramref name="cpu"/> owns and raises their interrupt
    /// (schedules their NAPI).</summary>
    public void Deliver(NapiContext cpu)
    {
        ArgumentNullException.ThrowIfNull(cpu);
        var rx = Nic.Rx;
        var pool = cpu.Pool;
        for (int q = cpu.Id; q < rx.Length; q += cpu.World.CpuCount)
        {
            ref long remaining = ref _remaining[(q + 1) * Stride];
            long n = Math.Min(remaining, Math.Min(NapiContext.NapiWeight, rx[q].Ring.Free));
            if (n <= 0)
            {
                continue;
            }

            // The next flow of the queue, in turn (an index that wraps: no division per frame).
            ref long position = ref _position[(q + 1) * Stride];
            var flows = _queueFlows[q];
            for (long i = 0; i < n; i++)
            {
                var t = _templates[flows[position]];
                if (++position == flows.Length)
                {
                    position = 0;
                }

                cpu.Generated++;
                int frame = pool.Alloc(cpu.Id);
                if (frame < 0)
                {
                    rx[q].RxMissed++;
                    cpu.Ends[(int)FrameEnd.RxMissed]++;
                    continue;
                }

                t.AsSpan().CopyTo(new Span<byte>(pool.FrameStart(frame) + FramePool.Headroom, t.Length));
                rx[q].Receive(new XdpDesc(frame, FramePool.Headroom, (ushort)t.Length, Nic.Ifindex));
            }

            remaining -= n;
            cpu.Schedule(rx[q]);
        }
    }

    private static byte[][] BuildFlows(TrafficSpec spec)
    {
        if (spec.Flows <= 0)
        {
            throw new ArgumentException($"flows must be positive, not {spec.Flows}", nameof(spec));
        }

        var src = IPAddress.Parse(spec.Src);
        var dst = IPAddress.Parse(spec.Dst);
        bool v6 = src.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        if (v6 != (dst.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6))
        {
            throw new ArgumentException("source and destination must both be IPv4 or both IPv6", nameof(spec));
        }

        bool tcp = spec.Protocol == "tcp";
        int l4 = tcp ? 20 : 8;
        int min = 14 + (v6 ? 40 : 20) + l4;
        if (spec.FrameSize < min || spec.FrameSize > 3520)
        {
            throw new ArgumentException($"frame_size {spec.FrameSize} is outside {min}..3520", nameof(spec));
        }

        var flows = new byte[spec.Flows][];
        for (int f = 0; f < spec.Flows; f++)
        {
            var b = new byte[spec.FrameSize];
            ParseMac(spec.DstMac).CopyTo(b, 0);
            ParseMac(spec.SrcMac).CopyTo(b, 6);
            int ip = 14;
            int sport = (spec.SrcPort + f) & 0xffff;
            int l4Off;
            if (v6)
            {
                BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(12), 0x86dd);
                b[ip] = 0x60;
                BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(ip + 4), (ushort)(spec.FrameSize - ip - 40));
                b[ip + 6] = (byte)(tcp ? 6 : 17);
                b[ip + 7] = 64;
                src.GetAddressBytes().CopyTo(b, ip + 8);
                dst.GetAddressBytes().CopyTo(b, ip + 24);
                l4Off = ip + 40;
            }
            else
            {
                BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(12), 0x0800);
                b[ip] = 0x45;
                BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(ip + 2), (ushort)(spec.FrameSize - ip));
                b[ip + 8] = 64;
                b[ip + 9] = (byte)(tcp ? 6 : 17);
                src.GetAddressBytes().CopyTo(b, ip + 12);
                dst.GetAddressBytes().CopyTo(b, ip + 16);
                uint sum = 0;
                for (int i = 0; i < 20; i += 2)
                {
                    sum += BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(ip + i));
                }

                while (sum > 0xffff)
                {
                    sum = (sum & 0xffff) + (sum >> 16);
                }

                BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(ip + 10), (ushort)~sum);
                l4Off = ip + 20;
            }

            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(l4Off), (ushort)sport);
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(l4Off + 2), (ushort)spec.DstPort);
            if (tcp)
            {
                b[l4Off + 12] = 0x50;
                b[l4Off + 13] = 0x02;
            }
            else
            {
                BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(l4Off + 4), (ushort)(spec.FrameSize - l4Off));
            }

            flows[f] = b;
        }

        return flows;
    }

    private static byte[] ParseMac(string mac)
    {
        var parts = mac.Split(':');
        if (parts.Length != 6)
        {
            throw new ArgumentException($"not a MAC address: {mac}", nameof(mac));
        }

        var b = new byte[6];
        for (int i = 0; i < 6; i++)
        {
            b[i] = Convert.ToByte(parts[i], 16);
        }

        return b;
    }
}
