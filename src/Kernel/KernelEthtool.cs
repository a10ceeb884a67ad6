using System.Runtime.InteropServices;
using System.Text;

namespace VethXdp.Kernel;

/// <summary>The two ethtool operations the veth topology check needs, through the SIOCETHTOOL ioctl (no ethtool binary
/// required): a device's statistics as <c>ethtool -S DEV</c> prints them, and GRO on or off (<c>ethtool -K DEV gro on</c>).
/// Both act in the calling thread's network namespace.</summary>
public static unsafe partial class KernelEthtool
{
    private const string Lib = "libc.so.6";
    private const int AfInet = 2;
    private const int SockDgram = 2;
    private const int SockCloexec = 0x80000;
    private const ulong SiocEthtool = 0x8946;
    private const uint EthtoolGStrings = 0x1b;
    private const uint EthtoolGStats = 0x1d;
    private const uint EthtoolSGro = 0x2c;
    private const uint EthtoolGSsetInfo = 0x37;
    private const uint EthSsStats = 1;
    private const int EthGStringLen = 32;
    private const int IfNameSize = 16;

    /// <summary>ETHTOOL_GSSET_INFO, ETHTOOL_GSTRINGS and ETHTOOL_GSTATS of <paramref name="device"/>: every statistic by
    /// name, in the driver's order (veth: <c>peer_ifindex</c>, <c>rx_queue_0_xdp_packets</c>, ...).</summary>
    /// <param name="device">The device's name.</param>
    /// <exception cref="InvalidOperationException">An ioctl failed (the errno is in the message).</exception>
    public static IReadOnlyList<KeyValuePair<string, ulong>> Statistics(string device)
    {
        ArgumentNullException.ThrowIfNull(device);
        int fd = Socket();
        try
        {
            // struct ethtool_sset_info { u32 cmd; u32 reserved; u64 sset_mask; u32 data[]; }
            var info = new byte[16 + 4];
            BitConverter.TryWriteBytes(info.AsSpan(0), EthtoolGSsetInfo);
            BitConverter.TryWriteBytes(info.AsSpan(8), 1UL << (int)EthSsStats);
            Ioctl(fd, device, info, "ETHTOOL_GSSET_INFO");
            ulong mask = BitConverter.ToUInt64(info, 8);
            int count = (mask & (1UL << (int)EthSsStats)) != 0 ? (int)BitConverter.ToUInt32(info, 16) : 0;
            if (count == 0)
            {
                return [];
            }

            // struct ethtool_gstrings { u32 cmd; u32 string_set; u32 len; u8 data[]; }
            var strings = new byte[12 + (count * EthGStringLen)];
            BitConverter.TryWriteBytes(strings.AsSpan(0), EthtoolGStrings);
            BitConverter.TryWriteBytes(strings.AsSpan(4), EthSsStats);
            BitConverter.TryWriteBytes(strings.AsSpan(8), (uint)count);
            Ioctl(fd, device, strings, "ETHTOOL_GSTRINGS");

            // struct ethtool_stats { u32 cmd; u32 n_stats; u64 data[]; }
            var stats = new byte[8 + (count * 8)];
            BitConverter.TryWriteBytes(stats.AsSpan(0), EthtoolGStats);
            BitConverter.TryWriteBytes(stats.AsSpan(4), (uint)count);
            Ioctl(fd, device, stats, "ETHTOOL_GSTATS");
            int n = Math.Min(count, (int)BitConverter.ToUInt32(stats, 4));
            var result = new List<KeyValuePair<string, ulong>>(n);
            for (int i = 0; i < n; i++)
            {
                var raw = strings.AsSpan(12 + (i * EthGStringLen), EthGStringLen);
                int end = raw.IndexOf((byte)0);
                string name = Encoding.ASCII.GetString(end < 0 ? raw : raw[..end]);
                result.Add(new(name, BitConverter.ToUInt64(stats, 8 + (i * 8))));
            }

            return result;
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>ETHTOOL_SGRO: turns GRO on <paramref name="device"/> on or off.</summary>
    /// <param name="device">The device's name.</param>
    /// <param name="on">The new state.</param>
    /// <exception cref="InvalidOperationException">The ioctl failed.</exception>
    public static void SetGro(string device, bool on)
    {
        ArgumentNullException.ThrowIfNull(device);
        int fd = Socket();
        try
        {
            // struct ethtool_value { u32 cmd; u32 data; }
            var value = new byte[8];
            BitConverter.TryWriteBytes(value.AsSpan(0), EthtoolSGro);
            BitConverter.TryWriteBytes(value.AsSpan(4), on ? 1u : 0u);
            Ioctl(fd, device, value, "ETHTOOL_SGRO");
        }
        finally
        {
            _ = Close(fd);
        }
    }

    private static int Socket()
    {
        int fd = SocketCall(AfInet, SockDgram | SockCloexec, 0);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new InvalidOperationException($"socket(AF_INET, SOCK_DGRAM): {ErrnoNames.Name(errno)} ({ErrnoNames.Describe(errno)})");
        }

        return fd;
    }

    private static void Ioctl(int fd, string device, byte[] data, string what)
    {
        // struct ifreq { char ifr_name[IFNAMSIZ]; union { ...; void *ifr_data; }; } (40 bytes on 64-bit)
        var ifr = stackalloc byte[40];
        new Span<byte>(ifr, 40).Clear();
        int len = Encoding.ASCII.GetBytes(device.AsSpan(0, Math.Min(device.Length, IfNameSize - 1)), new Span<byte>(ifr, IfNameSize - 1));
        ifr[len] = 0;
        fixed (byte* p = data)
        {
            *(byte**)(ifr + IfNameSize) = p;
            if (IoctlCall(fd, SiocEthtool, ifr) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw new InvalidOperationException($"{device}: SIOCETHTOOL {what}: {ErrnoNames.Name(errno)} ({ErrnoNames.Describe(errno)})");
            }
        }
    }

    [LibraryImport(Lib, EntryPoint = "socket", SetLastError = true)]
    private static partial int SocketCall(int domain, int type, int protocol);

    [LibraryImport(Lib, EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlCall(int fd, ulong request, void* arg);

    [LibraryImport(Lib, EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
