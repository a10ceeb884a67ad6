using VethXdp.Devices.Frames;

namespace VethXdp.Devices.Rings;

/// <summary>A single-producer single-consumer ring of descriptors (a NIC descriptor ring, veth's ptr_ring, the
/// backlog): a power-of-two slot array with free-running producer and consumer counters.</summary>
/// <remarks>A mutable struct: keep it in a field and use it through <c>ref</c> (never copy it, or the copy and the
/// field diverge). Holds <see cref="Capacity"/> entries, as ptr_ring of that size does.</remarks>
public struct DescRing
{
    private readonly XdpDesc[] _slots;
    private readonly uint _mask;
    private uint _prod;
    private uint _cons;

    /// <summary>A ring of <paramref name="size"/> slots (a power of two).</summary>
    public DescRing(int size)
    {
        if (size <= 0 || (size & (size - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(size), $"ring size {size} is not a power of two");
        }

        _slots = new XdpDesc[size];
        _mask = (uint)size - 1;
        _prod = 0;
        _cons = 0;
    }

    /// <summary>Slots.</summary>
    public readonly int Capacity => (int)_mask + 1;

    /// <summary>Entries waiting.</summary>
    public readonly int Count => (int)(_prod - _cons);

    /// <summary>True when no entry waits (__ptr_ring_empty).</summary>
    public readonly bool IsEmpty => _prod == _cons;

    /// <summary>Free slots.</summary>
    public readonly int Free => Capacity - Count;

    /// <summary>Adds <paramref name="d"/> at the tail; false when the ring is full (__ptr_ring_produce: -ENOSPC).</summary>
    public bool TryEnqueue(in XdpDesc d)
    {
        if (_prod - _cons > _mask)
        {
            return false;
        }

        _slots[_prod & _mask] = d;
        _prod++;
        return true;
    }

    /// <summary>Takes the head entry; false when the ring is empty (__ptr_ring_consume: NULL).</summary>
    public bool TryDequeue(out XdpDesc d)
    {
        if (_prod == _cons)
        {
            d = default;
            return false;
        }

        d = _slots[_cons & _mask];
        _cons++;
        return true;
    }
}
