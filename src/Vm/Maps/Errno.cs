namespace VethXdp.Vm.Maps;

/// <summary>Linux errno values that helpers and map operations return (negated).</summary>
public static class Errno
{
#pragma warning disable CS1591
    public const int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, ENXIO = 6, E2BIG = 7, ENOEXEC = 8, EBADF = 9;
    public const int EAGAIN = 11, ENOMEM = 12, EACCES = 13, EFAULT = 14, EBUSY = 16, EEXIST = 17, ENODEV = 19;
    public const int EINVAL = 22, ENOSPC = 28, ERANGE = 34, ENOSYS = 38, ENOTSUPP = 524, EOPNOTSUPP = 95, ENODATA = 61;
    public const int EOVERFLOW = 75, ENOTSOCK = 88;
    public const int EMSGSIZE = 90, EPROTONOSUPPORT = 93, EAFNOSUPPORT = 97, ENETUNREACH = 101, ELOOP = 40, ENAMETOOLONG = 36;
#pragma warning restore CS1591
}
