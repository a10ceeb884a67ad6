using System.Buffers.Binary;
using VethXdp.Vm.Maps;

namespace VethXdp.Vm.Helpers;

/// <summary>CPU, randomness, memory-probing and string helpers (kernel/bpf/helpers.c, kernel/trace/bpf_trace.c).</summary>
/// <remarks>"Kernel memory" is the memory the run owns (stack, packet, context, map values): reads of anything else
/// fail as a read of an unmapped kernel address fails (-EFAULT, and the destination zeroed). There is no user
/// address space, so the probe_read_user helpers always fail that way.</remarks>
public static class SystemHelpers
{
    /// <summary>BPF_STRTOX_BASE_MASK: the base in the low 5 bits of strtol's flags.</summary>
    private const ulong StrtoxBaseMask = 0x1f;

    /// <summary>bpf_get_prandom_u32() (7): the next value of the run's generator (<see cref="Prandom"/>).</summary>
    public static ulong GetPrandomU32(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        return env.Random.Next();
    }

    /// <summary>bpf_get_smp_processor_id() (8): the run's CPU (--cpu).</summary>
    public static ulong GetSmpProcessorId(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        return (uint)env.Cpu;
    }

    /// <summary>bpf_get_numa_node_id() (42): the NUMA node of the run's CPU (0).</summary>
    public static ulong GetNumaNodeId(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        return (ulong)(long)env.NumaNode;
    }

    /// <summary>bpf_probe_read_kernel(dst, size, unsafe_ptr) (113): 0, or -EFAULT with dst zeroed when the run does not
    /// own the source.</summary>
    public static ulong ProbeReadKernel(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        int size = (int)(uint)r2;
        var dst = env.Store(r1, size);
        if (!env.IsReadable(r3, size))
        {
            dst.Clear();
            return unchecked((ulong)-Errno.EFAULT);
        }

        env.Load(r3, size).CopyTo(dst);
        return 0;
    }

    /// <summary>bpf_probe_read_user(dst, size, unsafe_ptr) (112): -EFAULT with dst zeroed (no user memory).</summary>
    public static ulong ProbeReadUser(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        env.Store(r1, (int)(uint)r2).Clear();
        return unchecked((ulong)-Errno.EFAULT);
    }

    /// <summary>bpf_probe_read_kernel_str(dst, size, unsafe_ptr) (115): copies a NUL-terminated string of at most
    /// size - 1 characters and a NUL; returns the bytes written including the NUL, 0 when size is 0, or -EFAULT with
    /// dst zeroed when the string runs into memory the run does not own.</summary>
    public static ulong ProbeReadKernelStr(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        int size = (int)(uint)r2;
        var dst = env.Store(r1, size);
        if (size == 0)
        {
            return 0;
        }

        // kernel: strncpy_from_kernel_nofault(): byte by byte until a NUL is copied or size bytes are read.
        for (int n = 0; n < size; n++)
        {
            ulong a = r3 + (ulong)n;
            if (!env.IsReadable(a, 1))
            {
                dst.Clear();
                return unchecked((ulong)-Errno.EFAULT);
            }

            byte b = env.Load(a, 1)[0];
            dst[n] = b;
            if (b == 0)
            {
                return (ulong)(n + 1);
            }
        }

        dst[size - 1] = 0;
        return (ulong)size;
    }

    /// <summary>bpf_probe_read_user_str(dst, size, unsafe_ptr) (114): -EFAULT with dst zeroed (no user memory); 0 when size is 0.</summary>
    public static ulong ProbeReadUserStr(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        int size = (int)(uint)r2;
        env.Store(r1, size).Clear();
        return size == 0 ? 0 : unchecked((ulong)-Errno.EFAULT);
    }

    /// <summary>bpf_strtol(buf, buf_len, flags, res) (105): parses a signed integer (base 0, 8, 10 or 16 in the low
    /// bits of flags); the characters consumed, or -EINVAL / -ERANGE. *res is 0 on failure.</summary>
    public static ulong Strtol(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var res = env.Store(r4, 8);
        var buf = env.Load(r1, (int)r2);
        BinaryPrimitives.WriteInt64LittleEndian(res, 0);
        long consumed = ParseUnsigned(buf, r3, out ulong value, out bool negative);
        if (consumed < 0)
        {
            return (ulong)consumed;
        }

        long result;
        if (negative)
        {
            if ((long)(0 - value) > 0)
            {
                return unchecked((ulong)-Errno.ERANGE);
            }

            result = (long)(0 - value);
        }
        else
        {
            if ((long)value < 0)
            {
                return unchecked((ulong)-Errno.ERANGE);
            }

            result = (long)value;
        }

        BinaryPrimitives.WriteInt64LittleEndian(res, result);
        return (ulong)consumed;
    }

    /// <summary>bpf_strtoul(buf, buf_len, flags, res) (106): parses an unsigned integer; the characters consumed, or
    /// -EINVAL (also for a leading '-') / -ERANGE. *res is 0 on failure.</summary>
    public static ulong Strtoul(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var res = env.Store(r4, 8);
        var buf = env.Load(r1, (int)r2);
        BinaryPrimitives.WriteInt64LittleEndian(res, 0);
        long consumed = ParseUnsigned(buf, r3, out ulong value, out bool negative);
        if (consumed < 0)
        {
            return (ulong)consumed;
        }

        if (negative)
        {
            return unchecked((ulong)-Errno.EINVAL);
        }

        BinaryPrimitives.WriteUInt64LittleEndian(res, value);
        return (ulong)consumed;
    }

    /// <summary>bpf_strncmp(s1, s1_sz, s2) (182): strncmp(s1, s2, s1_sz) as the kernel's lib/string.c returns it:
    /// -1, 0 or 1.</summary>
    public static ulong Strncmp(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        int n = (int)(uint)r2;
        var s1 = env.Load(r1, n);
        for (int i = 0; i < n; i++)
        {
            byte c1 = s1[i];
            byte c2 = env.Load(r3 + (ulong)i, 1)[0];
            if (c1 != c2)
            {
                return c1 < c2 ? ulong.MaxValue : 1;
            }

            if (c1 == 0)
            {
                break;
            }
        }

        return 0;
    }

    // kernel: __bpf_strtoull(): skip white space, an optional '-', the radix prefix, then digits. Returns the
    // characters consumed (white space and sign included) or -errno.
    private static long ParseUnsigned(ReadOnlySpan<byte> buf, ulong flags, out ulong value, out bool negative)
    {
        value = 0;
        negative = false;
        uint numberBase = (uint)(flags & StrtoxBaseMask);
        if (buf.IsEmpty)
        {
            return -Errno.EINVAL;
        }

        if (numberBase is not (0 or 8 or 10 or 16) || (flags & ~StrtoxBaseMask) != 0)
        {
            return -Errno.EINVAL;
        }

        int at = 0;
        while (at < buf.Length && (buf[at] == ' ' || (buf[at] >= 9 && buf[at] <= 13)))
        {
            at++;
        }

        negative = at < buf.Length && buf[at] == '-';
        if (negative)
        {
            at++;
        }

        int consumed = at;
        if (at == buf.Length)
        {
            return -Errno.EINVAL;
        }

        // At most 63 characters are parsed (the kernel copies them into a 64-byte string).
        var s = buf.Slice(at, Math.Min(buf.Length - at, 63));
        int p = 0;
        if (numberBase == 0)
        {
            if (At(s, 0) == '0')
            {
                numberBase = (At(s, 1) | 0x20) == 'x' && IsHex(At(s, 2)) ? 16u : 8u;
            }
            else
            {
                numberBase = 10;
            }
        }

        if (numberBase == 16 && At(s, 0) == '0' && (At(s, 1) | 0x20) == 'x')
        {
            p = 2;
        }

        int digits = 0;
        bool overflow = false;
        while (true)
        {
            byte c = At(s, p + digits);
            uint d;
            if (c >= '0' && c <= '9')
            {
                d = (uint)(c - '0');
            }
            else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            {
                d = (uint)((c | 0x20) - 'a' + 10);
            }
            else
            {
                break;
            }

            if (d >= numberBase)
            {
                break;
            }

            // kernel: _parse_integer_limit(): overflow is noted, parsing goes on.
            if ((value & 0xF000_0000_0000_0000UL) != 0 && value > (ulong.MaxValue - d) / numberBase)
            {
                overflow = true;
            }

            value = (value * numberBase) + d;
            digits++;
        }

        if (overflow)
        {
            return -Errno.ERANGE;
        }

        if (digits == 0)
        {
            return -Errno.EINVAL;
        }

        return consumed + p + digits;
    }

    private static byte At(ReadOnlySpan<byte> s, int k) => k < s.Length ? s[k] : (byte)0;

    private static bool IsHex(byte c) => (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}
