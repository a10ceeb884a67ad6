namespace VethXdp.Verifier.Context;

/// <summary>Which loads the socket views allow: <c>struct bpf_sock</c>, <c>struct bpf_tcp_sock</c> and
/// <c>struct bpf_xdp_sock</c> (include/uapi/linux/bpf.h), as net/core/filter.c's is_valid_access callbacks decide.
/// Writes never reach these (check_mem_access refuses them first).</summary>
internal static class SockAccess
{
    // struct bpf_sock: every field a __u32 except dst_port (__be16 at 48, then 2 bytes of padding)
    private const int SockFamily = 4, SockType = 8, SockProtocol = 12, SockPriorityEnd = 24, SockSrcIp4 = 24,
        SockSrcIp6 = 28, SockSrcPort = 44, SockDstPort = 48, SockPadding = 50, SockDstIp4 = 52, SockDstIp6 = 56,
        SockState = 72, SockRxQueueMapping = 76, SockSize = 80;

    // struct bpf_tcp_sock: __u32 fields except the two __u64 byte counters; ends after icsk_retransmits
    private const int TcpBytesReceived = 80, TcpBytesAcked = 88, TcpSockEnd = 112;

    // struct bpf_xdp_sock { __u32 queue_id; }
    private const int XdpSockEnd = 4;

    /// <summary>kernel: bpf_ctx_narrow_access_ok(): a power-of-two size no wider than the field.</summary>
    private static bool NarrowOk(int size, int fieldSize) => size <= fieldSize && (size & (size - 1)) == 0;

    /// <summary>kernel: bpf_sock_is_valid_access(). <paramref name="fieldSize"/> is bpf_ctx_record_field_size's value
    /// (0 where the kernel records none).</summary>
    public static bool SockIsValid(int off, int size, out int fieldSize)
    {
        fieldSize = 0;
        if (off < 0 || off >= SockSize || size <= 0 || off % size != 0)
        {
            return false;
        }

        bool narrowField = off is SockFamily or SockType or SockProtocol or SockSrcPort or SockRxQueueMapping or SockState ||
            (off >= SockSrcIp4 && off < SockSrcPort) || (off >= SockDstIp4 && off < SockState);
        if (narrowField)
        {
            fieldSize = 4;
            return NarrowOk(size, 4);
        }

        if (off >= SockDstPort && off < SockPadding)
        {
            fieldSize = size == 4 ? 4 : 2;
            return NarrowOk(size, fieldSize);
        }

        if (off >= SockPadding && off < SockDstIp4)
        {
            return false;
        }

        return size == 4;
    }

    /// <summary>kernel: bpf_sock_common_is_valid_access(): bpf_sock without type .. priority
    /// (<c>bpf_ctx_range_till(struct bpf_sock, type, priority)</c>); bound_dev_if and family stay readable.</summary>
    public static bool SockCommonIsValid(int off, int size, out int fieldSize)
    {
        if (off >= SockType && off < SockPriorityEnd)
        {
            fieldSize = 0;
            return false;
        }

        return SockIsValid(off, size, out fieldSize);
    }

    /// <summary>kernel: bpf_tcp_sock_is_valid_access().</summary>
    public static bool TcpSockIsValid(int off, int size)
    {
        if (off < 0 || off >= TcpSockEnd || size <= 0 || off % size != 0)
        {
            return false;
        }

        return off is TcpBytesReceived or TcpBytesAcked ? size == 8 : size == 4;
    }

    /// <summary>kernel: bpf_xdp_sock_is_valid_access().</summary>
    public static bool XdpSockIsValid(int off, int size) =>
        off >= 0 && off < XdpSockEnd && size > 0 && off % size == 0 && size == 4;
}
