using System.Buffers.Binary;
using VethXdp.Vm.Maps;

namespace VethXdp.Vm.Helpers;

/// <summary>The networking helpers of net/core/filter.c an XDP program calls for checksums, routing and MTUs:
/// bpf_csum_diff, bpf_fib_lookup, bpf_check_mtu. They look in the engine's <see cref="Runtime.NetEnvironment"/>
/// (<see cref="NetRunState.For"/>).</summary>
public static class NetHelpers
{
    /// <summary>BPF_MTU_CHK_SEGS.</summary>
    public const ulong MtuCheckSegs = 1;

    /// <summary>BPF_MTU_CHK_RET_SUCCESS.</summary>
    public const int MtuCheckSuccess = 0;

    /// <summary>BPF_MTU_CHK_RET_FRAG_NEEDED.</summary>
    public const int MtuCheckFragNeeded = 1;

    /// <summary>bpf_csum_diff(from, from_size, to, to_size, seed) (28): the 16-bit folded ones'-complement sum of to,
    /// minus that of from, plus seed (see <see cref="NetChecksum.Diff"/>). Either buffer may be NULL with size 0; the
    /// sizes need not be multiples of 4 (Linux 6.13 and later).</summary>
    public static ulong CsumDiff(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var from = env.Load(r1, (int)(uint)r2);
        var to = env.Load(r3, (int)(uint)r4);
        return NetChecksum.Diff(from, to, (uint)r5);
    }

    /// <summary>bpf_fib_lookup(ctx, params, plen, flags) (69): see <see cref="NetFib.Lookup"/>; -EINVAL when plen is
    /// less than 64.</summary>
    public static ulong FibLookup(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        env.XdpFrame(r1);
        int plen = (int)(uint)r3;
        if (plen < NetFib.ParamsSize)
        {
            if (plen > 0)
            {
                env.Store(r2, plen); // the verifier checks the memory whatever the size
            }

            return unchecked((ulong)-Errno.EINVAL);
        }

        var p = env.Store(r2, plen)[..NetFib.ParamsSize];
        return (ulong)NetFib.Lookup(NetRunState.For(env).Environment, p, (uint)r4);
    }

    /// <summary>bpf_check_mtu(ctx, ifindex, mtu_len, len_diff, flags) (163), XDP's bpf_xdp_check_mtu: whether the
    /// frame's linear part (data_end - data), or the L3 length in *mtu_len when it is not 0 plus the device's L2 header,
    /// grown by len_diff, fits the MTU of device ifindex (0: the receiving device) plus its L2 header.
    /// BPF_MTU_CHK_RET_SUCCESS or BPF_MTU_CHK_RET_FRAG_NEEDED, with the device MTU in *mtu_len; -EINVAL for any flag
    /// (XDP has no segment check), -ENODEV for an unknown device.</summary>
    public static ulong CheckMtu(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var xdp = env.XdpFrame(r1);
        var mtuLen = env.Store(r3, sizeof(uint));
        if (r5 != 0)
        {
            return unchecked((ulong)-Errno.EINVAL);
        }

        var net = NetRunState.For(env).Environment;
        uint ifindex = (uint)r2;
        var dev = net.FindInterface(ifindex == 0 ? (int)xdp.Context.IngressIfindex : (int)ifindex);
        if (dev is null)
        {
            return unchecked((ulong)-Errno.ENODEV);
        }

        // The kernel computes in int.
        int mtu = (int)dev.Mtu;
        int devLength = mtu + dev.HardHeaderLength;
        uint given = BinaryPrimitives.ReadUInt32LittleEndian(mtuLen);
        int length = given != 0 ? (int)given + dev.HardHeaderLength : xdp.LinearLength;
        length += (int)r4;
        int ret = length > devLength ? MtuCheckFragNeeded : MtuCheckSuccess;
        BinaryPrimitives.WriteUInt32LittleEndian(mtuLen, (uint)mtu);
        return (ulong)(long)ret;
    }
}
