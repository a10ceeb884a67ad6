using VethXdp.Kernel;

namespace VethXdp.Kernel.Tests;

/// <summary>Skips a test where the running kernel's bpf() is not permitted, with the probe's reason.</summary>
internal static class KernelSkip
{
    public static void IfNotPermitted()
    {
        bool permitted = KernelProbe.IsBpfPermitted(out string reason);
        Skip.IfNot(permitted, reason);
    }
}
