using System.Buffers.Binary;
using System.Globalization;
using System.Net.Sockets;
using System.Net;
using System.Text;

namespace VethXdp.Testing.Model;

/// <summary>An IPv4 header (RFC 791): 20 bytes and up to 40 bytes of options. The IHL, total length, protocol and
/// checksum are computed unless overridden; <see cref="Version"/> other than 4 makes a wrong-version header.</summary>
public sealed record Ipv4Header : Header
{
    /// <summary>The fixed part's size.</summary>
    public const int MinSize = 20;

    /// <summary>The largest options area (IHL 15).</summary>
    public const int MaxOptions = 40;

    /// <summary>The source address.</summary>
    public IPAddress Source { get; init; } = IPAddress.Any;

    /// <summary>The destination address.</summary>
    public IPAddress Destination { get; init; } = IPAddress.Any;

    /// <summary>Type of service (DSCP and ECN).</summary>
    public byte Tos { get; init; }

    /// <summary>The identification.</summary>
    public ushort Id { get; init; }

    /// <summary>The DF flag.</summary>
    public bool DontFragment { get; init; }

    /// <summary>The MF flag.</summary>
    public bool MoreFragments { get; init; }

    /// <summary>The fragment offset in 8-byte units (13 bits).</summary>
    public ushort FragmentOffset { get; init; }

    /// <summary>Time to live.</summary>
    public byte Ttl { get; init; } = 64;

    /// <summary>The options, padded with end-of-list bytes to a multiple of 4 (at most 40 bytes).</summary>
    public IReadOnlyList<HeaderOption> Options { get; init; } = [];

    /// <summary>The protocol to write; null: the next header's (59, no next header, when nothing follows; 253 when
    /// payload follows).</summary>
    public byte? Protocol { get; init; }

    /// <summary>The version nibble (4).</summary>
    public byte Version { get; init; } = 4;

    /// <summary>The IHL to write (32-bit words); null: the real header length.</summary>
    public byte? Ihl { get; init; }

    /// <summary>The total length to write; null: the bytes from this header to the end of the frame.</summary>
    public ushort? TotalLength { get; init; }

    /// <summary>The header checksum to write; null: the correct one.</summary>
    public ushort? Checksum { get; init; }

    /// <inheritdoc/>
    public override string Name => "IPv4";

    /// <inheritdoc/>
    public override int Length => MinSize + HeaderOption.PaddedLength(Options, MaxOptions);

    /// <summary>True for the first fragment or an unfragmented packet (offset 0): the transport header is in it.</summary>
    public bool IsFirstFragment => FragmentOffset == 0;

    internal override int EtherTypeWhenNext => 0x0800;

    internal override int IpProtocolWhenNext => 4;

    internal override bool IsIp => true;

    internal override void Write(in RenderContext ctx)
    {
        var h = ctx.Here;
        h.Clear();
        h[0] = (byte)((Version << 4) | ((Ihl ?? (Length / 4)) & 0x0f));
        h[1] = Tos;
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], TotalLength ?? (ushort)Math.Min(ushort.MaxValue, ctx.Remaining));
        BinaryPrimitives.WriteUInt16BigEndian(h[4..], Id);
        BinaryPrimitives.WriteUInt16BigEndian(h[6..], (ushort)((DontFragment ? 0x4000 : 0) | (MoreFragments ? 0x2000 : 0) | (FragmentOffset & 0x1fff)));
        h[8] = Ttl;
        h[9] = IpProtocolFor(ctx.Next, Protocol, ctx.SomethingFollows);
        WriteAddress(Source, h[12..]);
        WriteAddress(Destination, h[16..]);
        HeaderOption.WriteList(Options, h[MinSize..], MaxOptions);
        BinaryPrimitives.WriteUInt16BigEndian(h[10..], Checksum ?? Model.Checksum.Compute(h));
    }

    internal override string Describe(ReadOnlySpan<byte> bytes)
    {
        int ihl = bytes[0] & 0x0f;
        ushort flags = BinaryPrimitives.ReadUInt16BigEndian(bytes[6..]);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture,
            $"{new IPAddress(bytes.Slice(12, 4))} > {new IPAddress(bytes.Slice(16, 4))}  ");
        if (bytes[0] >> 4 != 4)
        {
            sb.Append(CultureInfo.InvariantCulture, $"version {bytes[0] >> 4}  ");
        }

        sb.Append(CultureInfo.InvariantCulture,
            $"ihl {ihl}  len {BinaryPrimitives.ReadUInt16BigEndian(bytes[2..])}  id {BinaryPrimitives.ReadUInt16BigEndian(bytes[4..])}");
        if ((flags & 0x4000) != 0)
        {
            sb.Append(" DF");
        }

        if ((flags & 0x2000) != 0)
        {
            sb.Append(" MF");
        }

        if ((flags & 0x1fff) != 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $" frag {(flags & 0x1fff) * 8}");
        }

        sb.Append(CultureInfo.InvariantCulture,
            $"  ttl {bytes[8]}  proto {bytes[9]} ({Names.IpProtocol(bytes[9])})  csum {Names.Hex(BinaryPrimitives.ReadUInt16BigEndian(bytes[10..]))}");
        if (bytes.Length > MinSize)
        {
            sb.Append("  options ").Append(DescribeOptions(bytes[MinSize..]));
        }

        return sb.ToString();
    }

    internal override IEnumerable<Header> Simplify()
    {
        foreach (var h in SimplifyOverrides())
        {
            yield return h;
        }

        if (Options.Count > 0)
        {
            yield return this with { Options = [] };
            if (Options.Count > 1)
            {
                for (int i = 0; i < Options.Count; i++)
                {
                    yield return this with { Options = Without(Options, i) };
                }
            }
        }

        for (int i = 0; i < Options.Count; i++)
        {
            if (Options[i].LengthOverride is not null)
            {
                yield return this with { Options = Replace(Options, i, Options[i] with { LengthOverride = null }) };
            }
        }

        if (!Source.Equals(IPAddress.Any))
        {
            yield return this with { Source = IPAddress.Any };
        }

        if (!Destination.Equals(IPAddress.Any))
        {
            yield return this with { Destination = IPAddress.Any };
        }

        if (Tos != 0)
        {
            yield return this with { Tos = 0 };
        }

        if (Id != 0)
        {
            yield return this with { Id = 0 };
        }

        if (DontFragment)
        {
            yield return this with { DontFragment = false };
        }

        if (MoreFragments)
        {
            yield return this with { MoreFragments = false };
        }

        if (FragmentOffset != 0)
        {
            yield return this with { FragmentOffset = 0 };
        }

        if (Ttl != 0)
        {
            yield return this with { Ttl = 0 };
        }
    }

    private IEnumerable<Header> SimplifyOverrides()
    {
        if (Version != 4)
        {
            yield return this with { Version = 4 };
        }

        if (Ihl is not null)
        {
            yield return this with { Ihl = null };
        }

        if (TotalLength is not null)
        {
            yield return this with { TotalLength = null };
        }

        if (Checksum is not null)
        {
            yield return this with { Checksum = null };
        }

        if (Protocol is not null)
        {
            yield return this with { Protocol = null };
        }
    }

    internal static void WriteAddress(IPAddress address, Span<byte> destination)
    {
        destination[..4].Clear();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            address.TryWriteBytes(destination, out _);
        }
    }

    internal static IReadOnlyList<HeaderOption> Without(IReadOnlyList<HeaderOption> options, int index)
    {
        var list = new List<HeaderOption>(options);
        list.RemoveAt(index);
        return list;
    }

    internal static IReadOnlyList<HeaderOption> Replace(IReadOnlyList<HeaderOption> options, int index, HeaderOption option)
    {
        var list = new List<HeaderOption>(options) { [index] = option };
        return list;
    }

    // "[kind len] ..." for IPv4 and TCP option areas, as written (a bad length ends the walk).
    internal static string DescribeOptions(ReadOnlySpan<byte> area)
    {
        var sb = new StringBuilder();
        int i = 0;
        while (i < area.Length)
        {
            byte kind = area[i];
            if (kind == 0)
            {
                sb.Append(i == 0 ? "[eol]" : string.Empty);
                break;
            }

            if (kind == 1)
            {
                sb.Append("[nop]");
                i++;
                continue;
            }

            if (i + 1 >= area.Length)
            {
                sb.Append(CultureInfo.InvariantCulture, $"[{kind} (no length byte)]");
                break;
            }

            byte len = area[i + 1];
            if (len < 2 || i + len > area.Length)
            {
                sb.Append(CultureInfo.InvariantCulture, $"[{kind} BAD len {len}]");
                break;
            }

            sb.Append(CultureInfo.InvariantCulture, $"[{kind} len {len}]");
            i += len;
        }

        return sb.ToString();
    }
}
