namespace VethXdp.Kernel;

/// <summary>The bridge to the running kernel (bpf() through P/Invoke); filled in by the load-and-run issue.</summary>
public static class KernelInfo
{
    /// <summary>The running kernel's release (uname -r), or null where it cannot be read.</summary>
    public static string? Release =>
        File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : null;
}
