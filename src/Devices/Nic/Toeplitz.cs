using System.Buffers.Binary;

namespace VethXdp.Devices.Nic;

/// <summary>Receive-side scaling as NICs compute it: the Toeplitz hash over source address, destination address,
/// source port and destination port (IPv4 and IPv6; ports only for TCP and UDP; the protocol is not hashed), and the
/// default indirection table (ethtool_rxfh_indir_default: entry i = i % queues, 128 entries).</summary>
public static class Toeplitz
{
    /// <summary>The 40-byte key of Microsoft's RSS verification suite, the default of the scenarios.</summary>
    public static ReadOnlySpan<byte> DefaultKey =>
    [
        0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
        0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
        0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
    ];

    /// <summary>Entries of the default indirection table.</summary>
    public const int IndirectionTableSize = 128;

    /// <summary>The Toeplitz hash of <paramref name="input"/> under <paramref name="key"/> (the key must be at least
    /// input length + 4 bytes).</summary>
    public static uint Hash(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input)
    {
        if (key.Length < input.Length + 4)
        {
            throw new ArgumentException($"a {key.Length}-byte key cannot hash {input.Length} bytes", nameof(key));
        }

        uint result = 0;
        uint window = BinaryPrimitives.ReadUInt32BigEndian(key);
        int keyBit = 32;
        for (int i = 0; i < input.Length; i++)
        {
            byte b = input[i];
            for (int bit = 7; bit >= 0; bit--)
            {
                if (((b >> bit) & 1) != 0)
                {
                    result ^= window;
                }

                // slide the 32-bit window one bit along the key
                int next = (key[keyBit >> 3] >> (7 - (keyBit & 7))) & 1;
                window = (window << 1) | (uint)next;
                keyBit++;
            }
        }

        return result;
    }

    /// <summary>Writes the hash input of an Ethernet frame (src addr, dst addr, and for TCP/UDP src port, dst port)
    /// into <paramref name="input"/> (36 bytes suffice); returns its length, or 0 when the frame is neither IPv4 nor
    /// IPv6 (such frames go to queue 0).</summary>
    public static int HashInput(ReadOnlySpan<byte> frame, Span<byte> input)
    {
        if (frame.Length < 14)
        {
            return 0;
        }

        int off = 12;
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(frame[off..]);
        if (type is 0x8100 or 0x88a8 && frame.Length >= 18)
        {
            off += 4;
            type = BinaryPrimitives.ReadUInt16BigEndian(frame[off..]);
        }

        off += 2;
        int n;
        int proto;
        int l4;
        if (type == 0x0800 && frame.Length >= off + 20)
        {
            frame.Slice(off + 12, 8).CopyTo(input);
            n = 8;
            proto = frame[off + 9];
            l4 = off + ((frame[off] & 0x0f) * 4);
            bool fragment = (BinaryPrimitives.ReadUInt16BigEndian(frame[(off + 6)..]) & 0x3fff) != 0;
            if (fragment)
            {
                return n;
            }
        }
        else if (type == 0x86dd && frame.Length >= off + 40)
        {
            frame.Slice(off + 8, 32).CopyTo(input);
            n = 32;
            proto = frame[off + 6];
            l4 = off + 40;
        }
        else
        {
            return 0;
        }

        if (proto is 6 or 17 && frame.Length >= l4 + 4)
        {
            frame.Slice(l4, 4).CopyTo(input[n..]);
            n += 4;
        }

        return n;
    }

    /// <summary>The receive queue a frame lands on: indirection table entry (hash % 128) of the default table.</summary>
    public static int Queue(ReadOnlySpan<byte> key, ReadOnlySpan<byte> frame, int queues)
    {
        Span<byte> input = stackalloc byte[36];
        int n = HashInput(frame, input);
        if (n == 0 || queues <= 1)
        {
            return 0;
        }

        uint hash = Hash(key, input[..n]);
        return (int)(hash % IndirectionTableSize) % queues;
    }
}
