using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace VethXdp.Testing.Model;

/// <summary>A TCP header (RFC 9293): 20 bytes and up to 40 bytes of options. The data offset and checksum are
/// computed unless overridden.</summary>
public sealed record TcpHeader : Header
{
    /// <summary>The fixed part's size.</summary>
    public const int MinSize = 20;

    /// <summary>The source port.</summary>
    public ushort SourcePort { get; init; }

    /// <summary>The destination port.</summary>
    public ushort DestinationPort { get; init; }

    /// <summary>The sequence number.</summary>
    public uint Sequence { get; init; }

    /// <summary>The acknowledgment number.</summary>
    public uint Acknowledgment { get; init; }

    /// <summary>The flags.</summary>
    public TcpFlags Flags { get; init; }

    /// <summary>The window.</summary>
    public ushort Window { get; init; }

    /// <summary>The urgent pointer.</summary>
    public ushort UrgentPointer { get; init; }

    /// <summary>The options, padded with end-of-list bytes to a multiple of 4 (at most 40 bytes).</summary>
    public IReadOnlyList<HeaderOption> Options { get; init; } = [];

    /// <summary>The data offset to write (32-bit words); null: the real header length.</summary>
    public byte? DataOffset { get; init; }

    /// <summary>The checksum to write; null: the correct one.</summary>
    public ushort? Checksum { get; init; }

    /// <inheritdoc/>
    public override string Name => "TCP";

    /// <inheritdoc/>
    public override int Length => MinSize + HeaderOption.PaddedLength(Options, Ipv4Header.MaxOptions);

    internal override int IpProtocolWhenNext => 6;

    internal override void Write(in RenderContext ctx)
    {
        var h = ctx.Here;
        h.Clear();
        BinaryPrimitives.WriteUInt16BigEndian(h, SourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], DestinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(h[4..], Sequence);
        BinaryPrimitives.WriteUInt32BigEndian(h[8..], Acknowledgment);
        h[12] = (byte)(((DataOffset ?? (Length / 4)) & 0x0f) << 4);
        h[13] = (byte)Flags;
        BinaryPrimitives.WriteUInt16BigEndian(h[14..], Window);
        BinaryPrimitives.WriteUInt16BigEndian(h[18..], UrgentPointer);
        HeaderOption.WriteList(Options, h[MinSize..], Ipv4Header.MaxOptions);
        var segment = ctx.Frame[ctx.Offset..];
        uint sum = Model.Checksum.Add(Model.Checksum.Pseudo(ctx.EnclosingIp, 6, segment.Length), segment);
        BinaryPrimitives.WriteUInt16BigEndian(h[16..], Checksum ?? Model.Checksum.Finish(sum));
    }

    internal override string Describe(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture,
            $"{BinaryPrimitives.ReadUInt16BigEndian(bytes)} > {BinaryPrimitives.ReadUInt16BigEndian(bytes[2..])}  flags {FlagText((TcpFlags)bytes[13])}  seq {BinaryPrimitives.ReadUInt32BigEndian(bytes[4..])} ack {BinaryPrimitives.ReadUInt32BigEndian(bytes[8..])}  win {BinaryPrimitives.ReadUInt16BigEndian(bytes[14..])}  doff {bytes[12] >> 4}  csum {Names.Hex(BinaryPrimitives.ReadUInt16BigEndian(bytes[16..]))}");
        if (bytes.Length > MinSize)
        {
            sb.Append("  options ").Append(Ipv4Header.DescribeOptions(bytes[MinSize..]));
        }

        return sb.ToString();
    }

    internal static string FlagText(TcpFlags f)
    {
        if (f == TcpFlags.None)
        {
            return "none";
        }

        var sb = new StringBuilder();
        ReadOnlySpan<char> letters = "FSRPAUEC";
        for (int i = 0; i < 8; i++)
        {
            if (((int)f & (1 << i)) != 0)
            {
                sb.Append(letters[i]);
            }
        }

        return sb.ToString();
    }

    internal override IEnumerable<Header> Simplify()
    {
        if (DataOffset is not null)
        {
            yield return this with { DataOffset = null };
        }

        if (Checksum is not null)
        {
            yield return this with { Checksum = null };
        }

        if (Options.Count > 0)
        {
            yield return this with { Options = [] };
            if (Options.Count > 1)
            {
                for (int i = 0; i < Options.Count; i++)
                {
                    yield return this with { Options = Ipv4Header.Without(Options, i) };
                }
            }
        }

        for (int i = 0; i < Options.Count; i++)
        {
            if (Options[i].LengthOverride is not null)
            {
                yield return this with { Options = Ipv4Header.Replace(Options, i, Options[i] with { LengthOverride = null }) };
            }
        }

        if (SourcePort != 0)
        {
            yield return this with { SourcePort = 0 };
        }

        if (DestinationPort != 0)
        {
            yield return this with { DestinationPort = 0 };
        }

        if (Sequence != 0)
        {
            yield return this with { Sequence = 0 };
        }

        if (Acknowledgment != 0)
        {
            yield return this with { Acknowledgment = 0 };
        }

        if (Flags != TcpFlags.None)
        {
            yield return this with { Flags = TcpFlags.None };
        }

        if (Window != 0)
        {
            yield return this with { Window = 0 };
        }

        if (UrgentPointer != 0)
        {
            yield return this with { UrgentPointer = 0 };
        }
    }
}
