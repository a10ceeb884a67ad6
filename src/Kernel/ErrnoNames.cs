namespace VethXdp.Kernel;

/// <summary>Linux errno names (asm-generic/errno-base.h, errno.h and the kernel-internal ENOTSUPP).</summary>
public static class ErrnoNames
{
    private static readonly Dictionary<int, string> s_names = new()
    {
        [1] = "EPERM", [2] = "ENOENT", [3] = "ESRCH", [4] = "EINTR", [5] = "EIO", [6] = "ENXIO", [7] = "E2BIG",
        [8] = "ENOEXEC", [9] = "EBADF", [10] = "ECHILD", [11] = "EAGAIN", [12] = "ENOMEM", [13] = "EACCES",
        [14] = "EFAULT", [15] = "ENOTBLK", [16] = "EBUSY", [17] = "EEXIST", [18] = "EXDEV", [19] = "ENODEV",
        [20] = "ENOTDIR", [21] = "EISDIR", [22] = "EINVAL", [23] = "ENFILE", [24] = "EMFILE", [25] = "ENOTTY",
        [26] = "ETXTBSY", [27] = "EFBIG", [28] = "ENOSPC", [29] = "ESPIPE", [30] = "EROFS", [31] = "EMLINK",
        [32] = "EPIPE", [33] = "EDOM", [34] = "ERANGE", [35] = "EDEADLK", [36] = "ENAMETOOLONG", [37] = "ENOLCK",
        [38] = "ENOSYS", [39] = "ENOTEMPTY", [40] = "ELOOP", [61] = "ENODATA", [71] = "EPROTO",
        [75] = "EOVERFLOW", [90] = "EMSGSIZE", [93] = "EPROTONOSUPPORT", [95] = "EOPNOTSUPP",
        [97] = "EAFNOSUPPORT", [98] = "EADDRINUSE", [99] = "EADDRNOTAVAIL", [100] = "ENETDOWN",
        [101] = "ENETUNREACH", [110] = "ETIMEDOUT", [114] = "EALREADY", [115] = "EINPROGRESS",
        [524] = "ENOTSUPP",
    };

    /// <summary>The symbolic name of <paramref name="errno"/> ("EPERM"), or "errno N" when it has none here.</summary>
    /// <param name="errno">A positive errno value.</param>
    public static string Name(int errno) => s_names.TryGetValue(errno, out string? n) ? n : $"errno {errno}";

    /// <summary>The C library's description of <paramref name="errno"/> ("Operation not permitted").</summary>
    /// <param name="errno">A positive errno value.</param>
    public static string Describe(int errno)
    {
        if (errno == 524)
        {
            return "Unknown error 524 (ENOTSUPP: operation not supported by this kernel object)";
        }

        try
        {
            return System.Runtime.InteropServices.Marshal.PtrToStringUTF8(LibC.StrError(errno)) ?? Name(errno);
        }
        catch (DllNotFoundException)
        {
            return Name(errno);
        }
        catch (EntryPointNotFoundException)
        {
            return Name(errno);
        }
    }
}
