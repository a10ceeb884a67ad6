using System.Buffers.Binary;
using VethXdp.Devices.Napi;

namespace VethXdp.Devices.Xsk;

/// <summary>A user-space L2 learning switch over AF_XDP sockets (Open vSwitch's AF_XDP netdev in miniature): one
/// socket per port, each with its own UMEM; source MACs are learnt per port; a frame to a known MAC is copied into a
/// chunk of the output port's UMEM and sent through its TX ring; group and unknown destinations are flooded to every
/// other port; a frame whose destination sits behind its own ingress port is dropped. The same decisions as
/// corpus/xdp/xdp_devmap_switch.c.</summary>
/// <remarks>Each port's UMEM is split in two: the first half feeds the fill ring, the second half is the port's
/// pool of TX chunks, given back by the completion ring. Nothing allocates per frame once the MAC table is warm.</remarks>
public sealed class XskSwitch : IXskApp
{
    /// <summary>RX descriptors taken per port and pass (a NAPI-sized batch).</summary>
    public const int Batch = 64;

    private readonly Port[] _ports;
    private readonly Dictionary<ulong, int> _fdb = [];
    private readonly int[] _out;

    /// <summary>A switch over <paramref name="sockets"/> (bound, each with its own UMEM, RX and TX rings).</summary>
    public XskSwitch(string name, IReadOnlyList<XskSocket> sockets)
    {
        ArgumentNullException.ThrowIfNull(sockets);
        Name = name;
        _ports = new Port[sockets.Count];
        _out = new int[sockets.Count];
        for (int i = 0; i < sockets.Count; i++)
        {
            var s = sockets[i];
            if (s.Rx is null || s.Tx is null || s.Device is null)
            {
                throw new ArgumentException($"socket {s.Name}: a switch port needs a bound socket with RX and TX rings", nameof(sockets));
            }

            _ports[i] = new Port(s);
        }

        foreach (var p in _ports)
        {
            p.Prime();
        }
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>The ports' sockets.</summary>
    public IEnumerable<XskSocket> Sockets => _ports.Select(p => p.Socket);

    /// <summary>Frames taken from RX rings.</summary>
    public long RxFrames { get; private set; }

    /// <summary>Frames sent to a learnt port.</summary>
    public long Forwarded { get; private set; }

    /// <summary>Frames flooded (each counts once, whatever the number of copies).</summary>
    public long Flooded { get; private set; }

    /// <summary>Copies queued on TX rings.</summary>
    public long TxCopies { get; private set; }

    /// <summary>Frames dropped because their destination is behind their ingress port.</summary>
    public long HairpinDrops { get; private set; }

    /// <summary>Copies dropped for want of a free TX chunk or TX ring slot.</summary>
    public long TxFullDrops { get; private set; }

    /// <summary>The learnt table: MAC (6 bytes, big-endian in a ulong) -> ifindex of the port's device.</summary>
    public IReadOnlyDictionary<ulong, int> MacTable =>
        _fdb.ToDictionary(kv => kv.Key, kv => _ports[kv.Value].Socket.Device!.Ifindex);

    /// <summary>The counters for reports.</summary>
    public Counters Snapshot() => new Counters()
        .Add("rx", (ulong)RxFrames).Add("forwarded", (ulong)Forwarded).Add("flooded", (ulong)Flooded)
        .Add("tx_copies", (ulong)TxCopies).Add("hairpin_drops", (ulong)HairpinDrops).Add("tx_full_drops", (ulong)TxFullDrops)
        .Add("macs", (ulong)_fdb.Count);

    /// <inheritdoc/>
    public unsafe bool Run(NapiContext cpu)
    {
        ArgumentNullException.ThrowIfNull(cpu);
        bool busy = false;
        foreach (var p in _ports)
        {
            p.ReapCompletions();
        }

        for (int pi = 0; pi < _ports.Length; pi++)
        {
            var p = _ports[pi];
            var rx = p.Socket.Rx!;
            uint n = rx.Peek(Batch, out uint idx);
            if (n == 0)
            {
                continue;
            }

            busy = true;
            for (uint i = 0; i < n; i++)
            {
                var d = rx.RxDesc(idx + i);
                RxFrames++;
                var frame = new ReadOnlySpan<byte>(p.Socket.Umem.Area + d.Addr, (int)d.Len);
                Switch(pi, frame);
                p.Refill.Push(d.Addr & p.Socket.Umem.ChunkMask);
            }

            rx.Release(n);
            p.RefillFillRing();
        }

        foreach (var p in _ports)
        {
            busy |= p.Kick(cpu);
        }

        return busy;
    }

    private unsafe void Switch(int inPort, ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 14)
        {
            return;
        }

        ulong dst = Mac(frame);
        ulong src = Mac(frame[6..]);
        if ((frame[6] & 1) == 0)
        {
            // learn(): a group address is never a source
            ref int slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_fdb, src, out _);
            slot = inPort;
        }

        if ((frame[0] & 1) == 0 && _fdb.TryGetValue(dst, out int outPort))
        {
            if (outPort == inPort)
            {
                HairpinDrops++;
                return;
            }

            Forwarded++;
            Send(outPort, frame);
            return;
        }

        Flooded++;
        for (int o = 0; o < _ports.Length; o++)
        {
            if (o != inPort)
            {
                Send(o, frame);
            }
        }
    }

    private unsafe void Send(int port, ReadOnlySpan<byte> frame)
    {
        var p = _ports[port];
        if (!p.TxFree.TryPop(out ulong chunk))
        {
            TxFullDrops++;
            return;
        }

        var tx = p.Socket.Tx!;
        if (tx.Reserve(1, out uint idx) == 0)
        {
            p.TxFree.Push(chunk);
            TxFullDrops++;
            return;
        }

        frame.CopyTo(new Span<byte>(p.Socket.Umem.Area + chunk, frame.Length));
        tx.TxDesc(idx) = new XskDesc(chunk, (uint)frame.Length);
        tx.Submit(1);
        TxCopies++;
    }

    private static ulong Mac(ReadOnlySpan<byte> b) =>
        ((ulong)BinaryPrimitives.ReadUInt16BigEndian(b) << 32) | BinaryPrimitives.ReadUInt32BigEndian(b[2..]);

    private sealed class Port(XskSocket socket)
    {
        public XskSocket Socket { get; } = socket;

        public ChunkStack Refill { get; } = new((int)socket.Umem.Chunks);

        public ChunkStack TxFree { get; } = new((int)socket.Umem.Chunks);

        public void Prime()
        {
            var u = Socket.Umem;
            uint half = u.Chunks / 2;
            uint fill = Math.Min(half, u.Fill.Size);
            for (uint c = 0; c < fill; c++)
            {
                Refill.Push((ulong)c * u.ChunkSize);
            }

            for (uint c = half; c < u.Chunks; c++)
            {
                TxFree.Push((ulong)c * u.ChunkSize);
            }

            RefillFillRing();
        }

        public void RefillFillRing()
        {
            var fill = Socket.Umem.Fill;
            uint n = (uint)Refill.Count;
            if (n == 0)
            {
                return;
            }

            n = Math.Min(n, fill.NbFree(n));
            if (n == 0 || fill.Reserve(n, out uint idx) == 0)
            {
                return;
            }

            for (uint i = 0; i < n; i++)
            {
                Refill.TryPop(out ulong a);
                fill.FillAddr(idx + i) = a;
            }

            fill.Submit(n);
        }

        public void ReapCompletions()
        {
            var cq = Socket.Umem.Completion;
            uint n = cq.Peek(uint.MaxValue, out uint idx);
            for (uint i = 0; i < n; i++)
            {
                TxFree.Push(cq.CompAddr(idx + i) & Socket.Umem.ChunkMask);
            }

            if (n > 0)
            {
                cq.Release(n);
            }
        }

        // sendto() while the kernel asks for a wakeup (always, in copy mode) and there is something to send.
        public bool Kick(NapiContext cpu)
        {
            var tx = Socket.Tx!;
            if (tx.Outstanding == 0)
            {
                return false;
            }

            if (tx.NeedsWakeup)
            {
                int err;
                int tries = 0;
                do
                {
                    err = Socket.SendTo(cpu);
                }
                while (err == -Vm.Maps.Errno.EAGAIN && ++tries < 64);
            }

            return true;
        }
    }

    private sealed class ChunkStack(int capacity)
    {
        private readonly ulong[] _items = new ulong[capacity];

        public int Count { get; private set; }

        public void Push(ulong v) => _items[Count++] = v;

        public bool TryPop(out ulong v)
        {
            if (Count == 0)
            {
                v = 0;
                return false;
            }

            v = _items[--Count];
            return true;
        }
    }
}
