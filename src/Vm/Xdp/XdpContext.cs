using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VethXdp.Vm.Memory;

namespace VethXdp.Vm.Xdp;

/// <summary>One <c>struct xdp_md</c> in pinned memory, reused packet after packet.</summary>
/// <remarks>
/// The program receives <see cref="Address"/> in r1. Reads go through <see cref="TryLoad"/>, which applies
/// the kernel's context-access rules: only aligned 4-byte loads of a field are valid
/// (<c>__is_valid_xdp_access</c>), and those of data, data_end and data_meta yield the full 64-bit pointers.
/// </remarks>
public sealed unsafe class XdpContext
{
    /// <summary>Where, from <see cref="Address"/>, the block keeps data, data_end and data_meta as full 64-bit
    /// pointers, past the 24 bytes of xdp_md (outside the context region, so no program reaches them): what compiled
    /// code reads for a context load it knows to be one, as the kernel's rewritten load reads xdp_buff's pointer
    /// (xdp_convert_ctx_access()). data at +24, data_end at +32, data_meta at +40.</summary>
    public const int PointerShadow = 24;

    // Pinned on the POH: the address stays valid for the object's lifetime and needs no freeing. xdp_md, then the
    // three pointers (PointerShadow).
    private readonly byte[] _block = GC.AllocateArray<byte>(PointerShadow + 24, pinned: true);

    /// <summary>Creates a context over an empty packet at address 0.</summary>
    public XdpContext()
    {
        Address = (ulong)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_block));
    }

    /// <summary>Host address of the 24-byte structure.</summary>
    public ulong Address { get; }

    /// <summary>Packet start (what a load of data returns).</summary>
    public ulong Data { get; private set; }

    /// <summary>One past the packet end (what a load of data_end returns).</summary>
    public ulong DataEnd { get; private set; }

    /// <summary>Metadata start (equal to <see cref="Data"/> until bpf_xdp_adjust_meta grows the metadata area).</summary>
    public ulong DataMeta { get; private set; }

    /// <summary>The receiving interface.</summary>
    public uint IngressIfindex { get; private set; }

    /// <summary>The receive queue.</summary>
    public uint RxQueueIndex { get; private set; }

    /// <summary>The devmap egress interface (0 unless the program runs on a devmap entry).</summary>
    public uint EgressIfindex { get; private set; }

    /// <summary>The read-only context region to register for a run.</summary>
    public MemoryRegion Region => new(Address, XdpMd.Size, RegionKind.Context, Writable: false, "context");

    /// <summary>The packet region for a run: exactly [data_meta, data_end), writable.</summary>
    public MemoryRegion PacketRegion => new(DataMeta, DataEnd - DataMeta, RegionKind.Packet, Writable: true, "packet");

    /// <summary>Points the context at a packet [<paramref name="data"/>, <paramref name="dataEnd"/>).</summary>
    public void Set(ulong data, ulong dataEnd, uint ingressIfindex, uint rxQueueIndex)
    {
        if (dataEnd < data)
        {
            throw new ArgumentOutOfRangeException(nameof(dataEnd), "data_end is below data");
        }

        Data = data;
        DataEnd = dataEnd;
        DataMeta = data;
        IngressIfindex = ingressIfindex;
        RxQueueIndex = rxQueueIndex;
        EgressIfindex = 0;

        // The bytes a debugger or a raw reader sees: the low halves of the pointers, then the u32 fields.
        var b = _block.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(b[XdpMd.Data..], (uint)data);
        BinaryPrimitives.WriteUInt32LittleEndian(b[XdpMd.DataEnd..], (uint)dataEnd);
        BinaryPrimitives.WriteUInt32LittleEndian(b[XdpMd.DataMeta..], (uint)data);
        BinaryPrimitives.WriteUInt32LittleEndian(b[XdpMd.IngressIfindex..], ingressIfindex);
        BinaryPrimitives.WriteUInt32LittleEndian(b[XdpMd.RxQueueIndex..], rxQueueIndex);
        BinaryPrimitives.WriteUInt32LittleEndian(b[XdpMd.EgressIfindex..], 0);
        WriteShadow(data, dataEnd, data);
    }

    /// <summary>The offset from <see cref="Address"/> at which compiled code reads the field a 4-byte load at
    /// <paramref name="mdOffset"/> of xdp_md yields, and whether it is 8 bytes wide (the packet pointers, from
    /// <see cref="PointerShadow"/>) or 4 (the u32 fields, in place); -1 for an offset that is no field.</summary>
    public static int FieldOffset(int mdOffset, out bool wide)
    {
        wide = mdOffset is XdpMd.Data or XdpMd.DataEnd or XdpMd.DataMeta;
        return mdOffset switch
        {
            XdpMd.Data => PointerShadow,
            XdpMd.DataEnd => PointerShadow + 8,
            XdpMd.DataMeta => PointerShadow + 16,
            XdpMd.IngressIfindex or XdpMd.RxQueueIndex or XdpMd.EgressIfindex => mdOffset,
            _ => -1,
        };
    }

    private void WriteShadow(ulong data, ulong dataEnd, ulong dataMeta)
    {
        var b = _block.AsSpan(PointerShadow);
        BinaryPrimitives.WriteUInt64LittleEndian(b, data);
        BinaryPrimitives.WriteUInt64LittleEndian(b[8..], dataEnd);
        BinaryPrimitives.WriteUInt64LittleEndian(b[16..], dataMeta);
    }

    /// <summary>Moves the packet pointers (after bpf_xdp_adjust_head, _meta or _tail), keeping the other fields.</summary>
    public void Update(ulong dataMeta, ulong data, ulong dataEnd)
    {
        if (dataEnd < data || data < dataMeta)
        {
            throw new ArgumentOutOfRangeException(nameof(data), "the packet pointers must satisfy data_meta <= data <= data_end");
        }

        DataMeta = dataMeta;
        Data = data;
        DataEnd = dataEnd;
        var b = _block.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(b[XdpMd.Data..], (uint)data);
        BinaryPrimitives.WriteUInt32LittleEndian(b[XdpMd.DataEnd..], (uint)dataEnd);
        BinaryPrimitives.WriteUInt32LittleEndian(b[XdpMd.DataMeta..], (uint)dataMeta);
        WriteShadow(data, dataEnd, dataMeta);
    }

    /// <summary>Sets egress_ifindex (a program on a devmap entry sees the device it transmits on).</summary>
    public void SetEgressIfindex(uint ifindex)
    {
        EgressIfindex = ifindex;
        BinaryPrimitives.WriteUInt32LittleEndian(_block.AsSpan(XdpMd.EgressIfindex), ifindex);
    }

    /// <summary>
    /// The value a load of <paramref name="size"/> bytes at <paramref name="offset"/> into the context yields,
    /// or false when the kernel would refuse the access (anything but an aligned 4-byte load of a field).
    /// </summary>
    // kernel: xdp_is_valid_access() and xdp_convert_ctx_access()
    public bool TryLoad(long offset, int size, out ulong value)
    {
        value = 0;
        if (size != 4 || offset < 0 || offset >= XdpMd.Size || offset % 4 != 0)
        {
            return false;
        }

        value = offset switch
        {
            XdpMd.Data => Data,
            XdpMd.DataEnd => DataEnd,
            XdpMd.DataMeta => DataMeta,
            XdpMd.IngressIfindex => IngressIfindex,
            XdpMd.RxQueueIndex => RxQueueIndex,
            _ => EgressIfindex,
        };
        return true;
    }
}
