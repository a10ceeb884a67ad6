using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Maps;

namespace VethXdp.Vm.Helpers;

/// <summary>bpf_trace_printk, bpf_trace_vprintk and bpf_snprintf, formatted by <see cref="BpfPrintf"/> with the
/// kernel's rules. Trace messages go to <see cref="RuntimeEnv.Trace"/> as trace_pipe shows them (up to the first
/// NUL, at most 1023 bytes).</summary>
public static class PrintHelpers
{
    /// <summary>bpf_trace_printk(fmt, fmt_size, arg1, arg2, arg3) (6): the length of the formatted text, or -EINVAL
    /// (bad format, more conversions than 3, no NUL within fmt_size) / -ENOSPC.</summary>
    public static ulong TracePrintk(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var fmt = env.Load(r1, (int)(uint)r2);
        Span<ulong> args = [r3, r4, r5];
        return Trace(env, fmt, args);
    }

    /// <summary>bpf_trace_vprintk(fmt, fmt_size, data, data_len) (177): as trace_printk with up to 12 arguments in a u64
    /// array; -EINVAL when data_len is not a multiple of 8 or above 96.</summary>
    public static ulong TraceVprintk(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        uint dataLength = (uint)r4;
        var fmt = env.Load(r1, (int)(uint)r2);
        if ((dataLength & 7) != 0 || dataLength > BpfPrintf.MaxVarargs * 8 || (dataLength != 0 && r3 == 0))
        {
            return unchecked((ulong)-Errno.EINVAL);
        }

        Span<ulong> args = stackalloc ulong[(int)dataLength / 8];
        BpfPrintf.ReadArgs(env.Load(r3, (int)dataLength), args);
        return Trace(env, fmt, args);
    }

    /// <summary>bpf_snprintf(str, str_size, fmt, data, data_len) (165): formats into str (at most str_size - 1 bytes and
    /// a NUL); the length of the full text plus 1, or a negative errno. fmt must be a NUL-terminated string the run
    /// owns (the kernel wants it in a read-only map).</summary>
    public static ulong Snprintf(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        uint dataLength = (uint)r5;
        var output = env.Store(r1, (int)(uint)r2);
        if ((dataLength & 7) != 0 || dataLength > BpfPrintf.MaxVarargs * 8 || (dataLength != 0 && r4 == 0))
        {
            return unchecked((ulong)-Errno.EINVAL);
        }

        Span<byte> fmt = stackalloc byte[4096];
        int n = env.CopyString(r3, fmt[..^1]);
        if (n < 0 || n == fmt.Length - 1 || !env.IsReadable(r3 + (ulong)n, 1))
        {
            throw new ExecutionFaultException(FaultKind.HelperFailed, "R3 is not a NUL-terminated string the program owns");
        }

        fmt[n] = 0;
        Span<ulong> args = stackalloc ulong[(int)dataLength / 8];
        BpfPrintf.ReadArgs(env.Load(r4, (int)dataLength), args);
        int err = BpfPrintf.Format(env, fmt[..(n + 1)], args, output);
        return err < 0 ? (ulong)(long)err : (ulong)(err + 1);
    }

    private static ulong Trace(RuntimeEnv env, ReadOnlySpan<byte> fmt, ReadOnlySpan<ulong> args)
    {
        Span<byte> buf = stackalloc byte[BpfPrintf.MaxBuf];
        int ret = BpfPrintf.Format(env, fmt, args, buf);
        if (ret < 0)
        {
            return (ulong)(long)ret;
        }

        // The trace event copies the buffer as a C string.
        int length = buf.IndexOf((byte)0);
        env.Trace.Add(buf[..(length < 0 ? buf.Length : length)]);
        return (ulong)ret;
    }
}
