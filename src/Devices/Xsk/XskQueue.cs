namespace VethXdp.Devices.Xsk;

/// <summary>The kernel's side of one ring (struct xsk_queue, net/xdp/xsk_queue.h): cached producer and consumer
/// indices over the shared <see cref="XskRingMemory"/>, and the invalid_descs / queue_empty_descs counters.</summary>
/// <remarks>The kernel produces into RX and completion rings and consumes from fill and TX rings. Cached indices move
/// privately; only submit (producer) and release (consumer) publish them, as smp_wmb/smp_mb order them in Linux.</remarks>
public sealed class XskQueue
{
    private uint _cachedProd;
    private uint _cachedCons;

    /// <summary>The kernel side of <paramref name="ring"/>.</summary>
    public XskQueue(XskRingMemory ring)
    {
        ArgumentNullException.ThrowIfNull(ring);
        Ring = ring;
    }

    /// <summary>The shared memory.</summary>
    public XskRingMemory Ring { get; }

    /// <summary>invalid_descs: descriptors the consumer skipped as invalid.</summary>
    public ulong InvalidDescs { get; internal set; }

    /// <summary>queue_empty_descs: times the consumer found the ring empty.</summary>
    public ulong QueueEmptyDescs { get; internal set; }

    // ---- producer side (RX, completion) ----

    /// <summary>xskq_prod_is_full(): no free entry, even after re-reading the consumer index.</summary>
    public bool ProdIsFull()
    {
        // kernel: xskq_prod_is_full()
        uint free = Ring.Entries - (_cachedProd - _cachedCons);
        if (free != 0)
        {
            return false;
        }

        _cachedCons = Volatile.Read(ref Ring.Consumer);
        return Ring.Entries - (_cachedProd - _cachedCons) == 0;
    }

    /// <summary>xskq_prod_reserve_desc(): writes a descriptor at the cached producer; -ENOSPC when full.</summary>
    public int ProdReserveDesc(ulong addr, uint len)
    {
        if (ProdIsFull())
        {
            return -Vm.Maps.Errno.ENOSPC;
        }

        Ring.Desc(_cachedProd++) = new XskDesc(addr, len);
        return 0;
    }

    /// <summary>xskq_prod_reserve(): reserves an entry without writing it (the completion slot of a TX skb).</summary>
    public int ProdReserve()
    {
        if (ProdIsFull())
        {
            return -Vm.Maps.Errno.ENOSPC;
        }

        _cachedProd++;
        return 0;
    }

    /// <summary>xskq_prod_cancel(): gives back the last reserved entry.</summary>
    public void ProdCancel() => _cachedProd--;

    /// <summary>xskq_prod_submit(): publishes everything reserved.</summary>
    public void ProdSubmit() => Volatile.Write(ref Ring.Producer, _cachedProd);

    /// <summary>xskq_prod_submit_addr(): writes <paramref name="addr"/> at the published producer and publishes it
    /// (the TX skb destructor completing one reserved entry).</summary>
    public void ProdSubmitAddr(ulong addr)
    {
        uint idx = Ring.Producer;
        Ring.Addr(idx) = addr;
        Volatile.Write(ref Ring.Producer, idx + 1);
    }

    // ---- consumer side (fill, TX) ----

    /// <summary>Entries the cached view holds (refreshing from the producer when empty), as xskq_cons_nb_entries().</summary>
    public uint ConsEntries()
    {
        if (_cachedProd == _cachedCons)
        {
            ConsGetEntries();
        }

        return _cachedProd - _cachedCons;
    }

    /// <summary>xskq_cons_peek_addr_unchecked(): the next fill address (not yet released).</summary>
    public bool ConsPeekAddr(out ulong addr)
    {
        if (_cachedProd == _cachedCons)
        {
            ConsGetEntries();
        }

        if (_cachedCons == _cachedProd)
        {
            addr = 0;
            return false;
        }

        addr = Ring.Addr(_cachedCons);
        return true;
    }

    /// <summary>xskq_cons_peek_desc(): the next valid TX descriptor of <paramref name="umem"/>; invalid ones are
    /// skipped and counted (xskq_cons_is_valid_desc / xp_aligned_validate_desc).</summary>
    public bool ConsPeekDesc(XskUmem umem, out XskDesc desc)
    {
        ArgumentNullException.ThrowIfNull(umem);
        if (_cachedProd == _cachedCons)
        {
            ConsGetEntries();
        }

        while (_cachedCons != _cachedProd)
        {
            desc = Ring.Desc(_cachedCons);
            if (umem.IsValidTxDesc(desc))
            {
                return true;
            }

            InvalidDescs++;
            _cachedCons++;
        }

        desc = default;
        return false;
    }

    /// <summary>xskq_cons_release(): consumes the peeked entry locally.</summary>
    public void ConsRelease() => _cachedCons++;

    /// <summary>__xskq_cons_release(): publishes the consumer index.</summary>
    public void ConsPublish() => Volatile.Write(ref Ring.Consumer, _cachedCons);

    private void ConsGetEntries()
    {
        // kernel: xskq_cons_get_entries(): release what was consumed, then refresh the producer
        ConsPublish();
        _cachedProd = Volatile.Read(ref Ring.Producer);
    }
}
