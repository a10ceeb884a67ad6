using System.Globalization;

namespace VethXdp.Vm.Elf;

/// <summary>What <see cref="ElfObjectReader"/> gives an object's <c>.kconfig</c> externs.</summary>
public sealed record ElfLoadOptions
{
    /// <summary>The kernel version used when /proc/sys/kernel/osrelease cannot be read: 6.18.0.</summary>
    public static readonly uint FallbackKernelVersion = KernelVersionCode(6, 18, 0);

    /// <summary>The defaults: the running kernel's version, <see cref="KconfigTable.Default"/>.</summary>
    public static ElfLoadOptions Default { get; } = new();

    /// <summary>LINUX_KERNEL_VERSION; null means the running kernel's (see <see cref="RunningKernelVersion"/>).</summary>
    public uint? KernelVersion { get; init; }

    /// <summary>Values of CONFIG_* externs.</summary>
    public KconfigTable Kconfig { get; init; } = KconfigTable.Default;

    /// <summary>The kernel's KERNEL_VERSION(a, b, c): <c>(a &lt;&lt; 16) + (b &lt;&lt; 8) + min(c, 255)</c>.</summary>
    public static uint KernelVersionCode(int major, int minor, int patch) =>
        (uint)((major << 16) + (minor << 8) + Math.Min(patch, 255));

    /// <summary>KERNEL_VERSION of the running kernel's release (/proc/sys/kernel/osrelease, e.g. <c>6.18.44-...</c>
    /// gives 6.18.44), as libbpf computes LINUX_KERNEL_VERSION; <see cref="FallbackKernelVersion"/> when it cannot
    /// be read or parsed.</summary>
    public static uint RunningKernelVersion()
    {
        try
        {
            return ParseRelease(File.ReadAllText("/proc/sys/kernel/osrelease")) ?? FallbackKernelVersion;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return FallbackKernelVersion;
        }
    }

    /// <summary>KERNEL_VERSION of a release string's leading <c>a.b.c</c> (libbpf's <c>sscanf("%u.%u.%u")</c>), or null.</summary>
    public static uint? ParseRelease(string release)
    {
        ArgumentNullException.ThrowIfNull(release);
        var parts = new int[3];
        int p = 0, i = 0;
        var s = release.Trim();
        while (p < 3)
        {
            int start = i;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
            }

            if (i == start || !int.TryParse(s.AsSpan(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture, out parts[p]))
            {
                return null;
            }

            p++;
            if (p < 3)
            {
                if (i >= s.Length || s[i] != '.')
                {
                    return null;
                }

                i++;
            }
        }

        return parts[0] > 255 || parts[1] > 255 ? null : KernelVersionCode(parts[0], parts[1], parts[2]);
    }
}
