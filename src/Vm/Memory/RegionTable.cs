using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace VethXdp.Vm.Memory;

/// <summary>The memory regions of one run: every load and store is checked against this table before it happens.</summary>
/// <remarks>
/// A small array searched linearly, with a last-hit cache: consecutive accesses nearly always
/// touch the same region (the stack or the packet), so the common check is one subtraction and
/// two compares. Regions are added and removed in stack order (a call adds its frame, the return
/// removes it); <see cref="Count"/> and <see cref="Truncate"/> let a run restore the table it found.
/// <para>The bounds live in a blittable array and the names in a side array that is written only when the name at an
/// index changes: an engine that pushes the same regions (context, packet, stack frame 0) at the same indices on every
/// run writes no object reference, so the per-run path has no GC write barrier. <see cref="Push"/> skips the overlap
/// scan for memory the caller owns.</para>
/// </remarks>
public sealed class RegionTable
{
    private Entry[] _regions = new Entry[16];
    private string[] _names = new string[16];
    private int _count;
    private int _lastHit;

    /// <summary>Number of registered regions.</summary>
    public int Count => _count;

    /// <summary>The region at <paramref name="index"/> (0 = registered first).</summary>
    public MemoryRegion this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _count);
            ref readonly var e = ref _regions[index];
            return new MemoryRegion(e.Start, e.Length, e.Kind, e.Writable, _names[index]);
        }
    }

    /// <summary>Registers a region and returns its index; it must not overlap a registered one.</summary>
    public int Add(in MemoryRegion region)
    {
        if (region.Length != 0)
        {
            if (region.Start + region.Length < region.Start)
            {
                throw new ArgumentException($"region {region} wraps around the address space", nameof(region));
            }

            for (int i = 0; i < _count; i++)
            {
                ref readonly var r = ref _regions[i];
                if (r.Length != 0 && region.Start < r.Start + r.Length && r.Start < region.End)
                {
                    throw new InvalidOperationException($"region {region} overlaps {this[i]}");
                }
            }
        }

        return Push(region);
    }

    /// <summary>Registers a region without the overlap scan and returns its index: for memory the caller owns and
    /// knows to be disjoint from every other region (an engine's stack frames, context and packet).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Push(in MemoryRegion region)
    {
        int i = _count;
        var regions = _regions;
        if ((uint)i >= (uint)regions.Length)
        {
            Grow();
            regions = _regions;
        }

        // i < regions.Length, and _names always has _regions' length (Grow resizes both): no bounds checks.
        ref var e = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(regions), (nint)(uint)i);
        e.Start = region.Start;
        e.Length = region.Length;
        e.Kind = region.Kind;
        e.Writable = region.Writable;

        // The same name at the same index (the common case: the same run setup again) needs no reference store.
        ref string name = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_names), (nint)(uint)i);
        if (!ReferenceEquals(name, region.Name))
        {
            name = region.Name;
        }

        _count = i + 1;
        return i;
    }

    /// <summary>Moves the region at <paramref name="index"/> to <paramref name="start"/> and <paramref name="length"/>,
    /// keeping its kind, access and name (a packet whose bounds a helper moved).</summary>
    public void Update(int index, ulong start, ulong length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _count);
        ref var e = ref _regions[index];
        e.Start = start;
        e.Length = length;
    }

    /// <summary>Removes the most recently added region.</summary>
    public void RemoveLast()
    {
        if (_count == 0)
        {
            throw new InvalidOperationException("no region to remove");
        }

        _count--;
    }

    /// <summary>Removes every region added after the first <paramref name="count"/>.</summary>
    public void Truncate(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count < _count)
        {
            _count = count;
        }
    }

    /// <summary>Removes every region.</summary>
    public void Clear() => _count = 0;

    /// <summary>
    /// The index of the region that holds all <paramref name="size"/> bytes at <paramref name="address"/>
    /// and allows the access (a store needs a writable region), or -1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Find(ulong address, int size, bool write)
    {
        int i = _lastHit;
        if (i < _count)
        {
            ref readonly var r = ref _regions[i];
            ulong offset = address - r.Start;
            if (offset < r.Length && r.Length - offset >= (ulong)size && (r.Writable || !write))
            {
                return i;
            }
        }

        return FindSlow(address, size, write);
    }

    /// <summary>
    /// <see cref="Find(ulong, int, bool)"/> that first tries the region at <paramref name="hint"/>: the last region this
    /// access site hit (an engine keeps one hint per load or store instruction, so sites that touch different regions
    /// do not evict each other). The hint is only where the search starts: the result is the same as
    /// <see cref="Find(ulong, int, bool)"/>'s, and on a hit elsewhere <paramref name="hint"/> becomes its index.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int FindFrom(ref int hint, ulong address, int size, bool write)
    {
        int i = hint;
        if ((uint)i < (uint)_count)
        {
            ref readonly var r = ref _regions[i];
            ulong offset = address - r.Start;
            if (offset < r.Length && r.Length - offset >= (ulong)size && (r.Writable || !write))
            {
                return i;
            }
        }

        i = FindSlow(address, size, write);
        if (i >= 0)
        {
            hint = i;
        }

        return i;
    }

    /// <summary>The bounds of the region at <paramref name="index"/> when it exists and is a writable region of
    /// <paramref name="kind"/>: <c>[start, end)</c>; false otherwise (an engine keeping a region's bounds at hand).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGetWritable(int index, RegionKind kind, out ulong start, out ulong end)
    {
        if ((uint)index < (uint)_count)
        {
            ref readonly var r = ref _regions[index];
            if (r.Kind == kind && r.Writable)
            {
                start = r.Start;
                end = r.Start + r.Length;
                return true;
            }
        }

        start = 0;
        end = 0;
        return false;
    }

    private void Grow()
    {
        Array.Resize(ref _regions, _regions.Length * 2);
        Array.Resize(ref _names, _names.Length * 2);
    }

    /// <summary>True when the access is allowed; see <see cref="Find"/>.</summary>
    public bool IsAccessible(ulong address, int size, bool write) => Find(address, size, write) >= 0;

    private int FindSlow(ulong address, int size, bool write)
    {
        for (int i = 0; i < _count; i++)
        {
            ref readonly var r = ref _regions[i];
            ulong offset = address - r.Start;
            if (offset < r.Length && r.Length - offset >= (ulong)size && (r.Writable || !write))
            {
                _lastHit = i;
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// Explains why an access that <see cref="Find"/> refused is refused, naming the nearest region:
    /// <c>out-of-bounds store of 4 bytes at 0x7f0 (8 bytes past the end of stack frame 0 [0x5f0, 512 bytes))</c>.
    /// </summary>
    public string DescribeViolation(ulong address, int size, bool write)
    {
        var sb = new StringBuilder();
        sb.Append("out-of-bounds ").Append(write ? "store" : "load").Append(" of ").Append(size)
          .Append(size == 1 ? " byte" : " bytes").Append(" at 0x").Append(address.ToString("x")).Append(" (");
        sb.Append(DescribeNearest(address, size, write)).Append(')');
        return sb.ToString();
    }

    private string DescribeNearest(ulong address, int size, bool write)
    {
        if (_count == 0)
        {
            return "no memory regions are registered";
        }

        // A region that holds the first byte: either the access runs past its end, or it is read only.
        for (int i = 0; i < _count; i++)
        {
            var r = this[i];
            if (address - r.Start < r.Length)
            {
                if (r.Contains(address, size))
                {
                    return write && !r.Writable ? $"{r} is read-only" : $"{r} refuses the access";
                }

                ulong past = address + (ulong)size - r.End;
                return $"the last {past} {(past == 1 ? "byte is" : "bytes are")} past the end of {r}";
            }
        }

        // Otherwise the region at the smallest distance.
        int best = 0;
        ulong bestDistance = ulong.MaxValue;
        for (int i = 0; i < _count; i++)
        {
            var r = this[i];
            ulong d = address < r.Start ? r.Start - address : address - r.End;
            if (d < bestDistance)
            {
                bestDistance = d;
                best = i;
            }
        }

        var n = this[best];
        if (address < n.Start)
        {
            return $"{bestDistance} {(bestDistance == 1 ? "byte" : "bytes")} before the start of {n}";
        }

        return bestDistance == 0
            ? $"just past the end of {n}"
            : $"{bestDistance} {(bestDistance == 1 ? "byte" : "bytes")} past the end of {n}";
    }

    // A region's bounds and access, without its name (blittable: storing one is no reference store).
    private struct Entry
    {
        public ulong Start;
        public ulong Length;
        public RegionKind Kind;
        public bool Writable;
    }
}
