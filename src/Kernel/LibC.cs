using System.Reflection;
using System.Runtime.InteropServices;

namespace VethXdp.Kernel;

/// <summary>The few libc entry points the kernel bridge needs, found in the process's own global scope
/// (the runtime has already loaded libc), so no library name has to be guessed.</summary>
internal static unsafe partial class LibC
{
    private const string Lib = "libc";

    /// <summary>SYS_bpf on x86_64.</summary>
    public const long SysBpfX64 = 321;

    /// <summary>SYS_bpf on aarch64 (the generic syscall table).</summary>
    public const long SysBpfArm64 = 280;

    /// <summary>CLONE_NEWNET.</summary>
    public const int CloneNewNet = 0x40000000;

    static LibC()
    {
        NativeLibrary.SetDllImportResolver(typeof(LibC).Assembly, Resolve);
    }

    /// <summary>syscall(2): the number, then up to three arguments.</summary>
    [LibraryImport(Lib, EntryPoint = "syscall", SetLastError = true)]
    public static partial long Syscall(long number, long a1, void* a2, long a3);

    /// <summary>close(2).</summary>
    [LibraryImport(Lib, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    /// <summary>sched_setaffinity(2); pid 0 is the calling thread.</summary>
    [LibraryImport(Lib, EntryPoint = "sched_setaffinity", SetLastError = true)]
    public static partial int SchedSetAffinity(int pid, nuint cpusetsize, byte* mask);

    /// <summary>sched_getaffinity(2); pid 0 is the calling thread.</summary>
    [LibraryImport(Lib, EntryPoint = "sched_getaffinity", SetLastError = true)]
    public static partial int SchedGetAffinity(int pid, nuint cpusetsize, byte* mask);

    /// <summary>sched_getcpu(3).</summary>
    [LibraryImport(Lib, EntryPoint = "sched_getcpu", SetLastError = true)]
    public static partial int SchedGetCpu();

    /// <summary>setns(2) on the calling thread.</summary>
    [LibraryImport(Lib, EntryPoint = "setns", SetLastError = true)]
    public static partial int SetNs(int fd, int nstype);

    /// <summary>strerror(3): the C library's text for an errno.</summary>
    [LibraryImport(Lib, EntryPoint = "strerror")]
    public static partial nint StrError(int errnum);

    /// <summary>The bpf() syscall number for this process's architecture, or 0 where we do not know it.</summary>
    public static long BpfSyscallNumber => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => SysBpfX64,
        Architecture.Arm64 => SysBpfArm64,
        _ => 0,
    };

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Lib)
        {
            return 0;
        }

        // dlsym on the main program's handle searches the global scope, where libc already is.
        if (NativeLibrary.TryLoad("libc.so.6", out nint handle))
        {
            return handle;
        }

        return NativeLibrary.GetMainProgramHandle();
    }
}
