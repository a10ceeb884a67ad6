namespace VethXdp.Devices.Xsk;

/// <summary>User space's producer view of a ring (libxdp's struct xsk_ring_prod): the fill ring of a UMEM and the TX
/// ring of a socket.</summary>
public sealed class XskProdRing
{
    private uint _cachedProd;
    private uint _cachedCons;

    internal XskProdRing(XskRingMemory ring)
    {
        Ring = ring;
        _cachedCons = ring.Entries;
    }

    /// <summary>The shared memory.</summary>
    public XskRingMemory Ring { get; }

    /// <summary>Ring size.</summary>
    public uint Size => Ring.Entries;

    /// <summary>xsk_prod_nb_free(): free entries (re-reading the consumer when fewer than <paramref name="nb"/>).</summary>
    public uint NbFree(uint nb)
    {
        uint free = _cachedCons - _cachedProd;
        if (free >= nb)
        {
            return free;
        }

        _cachedCons = Volatile.Read(ref Ring.Consumer) + Ring.Entries;
        return _cachedCons - _cachedProd;
    }

    /// <summary>xsk_ring_prod__reserve(): reserves <paramref name="nb"/> entries starting at <paramref name="idx"/>;
    /// returns nb, or 0 when fewer are free.</summary>
    public uint Reserve(uint nb, out uint idx)
    {
        if (NbFree(nb) < nb)
        {
            idx = 0;
            return 0;
        }

        idx = _cachedProd;
        _cachedProd += nb;
        return nb;
    }

    /// <summary>xsk_ring_prod__fill_addr().</summary>
    public ref ulong FillAddr(uint idx) => ref Ring.Addr(idx);

    /// <summary>xsk_ring_prod__tx_desc().</summary>
    public ref XskDesc TxDesc(uint idx) => ref Ring.Desc(idx);

    /// <summary>xsk_ring_prod__submit(): publishes <paramref name="nb"/> reserved entries.</summary>
    public void Submit(uint nb) => Volatile.Write(ref Ring.Producer, Ring.Producer + nb);

    /// <summary>xsk_ring_prod__needs_wakeup(): the kernel asks for a sendto()/poll() kick.</summary>
    public bool NeedsWakeup => (Volatile.Read(ref Ring.Flags) & XskConstants.RingNeedWakeup) != 0;

    /// <summary>Entries produced and not yet consumed by the kernel.</summary>
    public uint Outstanding => Volatile.Read(ref Ring.Producer) - Volatile.Read(ref Ring.Consumer);
}

/// <summary>User space's consumer view of a ring (libxdp's struct xsk_ring_cons): the completion ring of a UMEM and
/// the RX ring of a socket.</summary>
public sealed class XskConsRing
{
    private uint _cachedProd;
    private uint _cachedCons;

    internal XskConsRing(XskRingMemory ring) => Ring = ring;

    /// <summary>The shared memory.</summary>
    public XskRingMemory Ring { get; }

    /// <summary>Ring size.</summary>
    public uint Size => Ring.Entries;

    /// <summary>xsk_cons_nb_avail().</summary>
    public uint NbAvail(uint nb)
    {
        uint entries = _cachedProd - _cachedCons;
        if (entries == 0)
        {
            _cachedProd = Volatile.Read(ref Ring.Producer);
            entries = _cachedProd - _cachedCons;
        }

        return entries > nb ? nb : entries;
    }

    /// <summary>xsk_ring_cons__peek(): up to <paramref name="nb"/> entries from <paramref name="idx"/>.</summary>
    public uint Peek(uint nb, out uint idx)
    {
        uint entries = NbAvail(nb);
        idx = _cachedCons;
        _cachedCons += entries;
        return entries;
    }

    /// <summary>xsk_ring_cons__cancel().</summary>
    public void Cancel(uint nb) => _cachedCons -= nb;

    /// <summary>xsk_ring_cons__rx_desc().</summary>
    public ref readonly XskDesc RxDesc(uint idx) => ref Ring.Desc(idx);

    /// <summary>xsk_ring_cons__comp_addr().</summary>
    public ref readonly ulong CompAddr(uint idx) => ref Ring.Addr(idx);

    /// <summary>xsk_ring_cons__release(): gives <paramref name="nb"/> entries back to the kernel.</summary>
    public void Release(uint nb) => Volatile.Write(ref Ring.Consumer, Ring.Consumer + nb);

    /// <summary>Entries the kernel published and user space has not released.</summary>
    public uint Pending => Volatile.Read(ref Ring.Producer) - Volatile.Read(ref Ring.Consumer);
}
