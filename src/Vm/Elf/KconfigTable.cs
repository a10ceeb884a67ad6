using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace VethXdp.Vm.Elf;

/// <summary>The kernel configuration values the loader gives <c>.kconfig</c> externs (<c>extern int CONFIG_HZ
/// __kconfig;</c>), as text in the <c>.config</c> format: <c>y</c>, <c>m</c>, <c>n</c>, a number, or a quoted string.</summary>
/// <remarks>
/// <para>libbpf reads the running kernel's configuration (/proc/config.gz). The loader uses a fixed table instead,
/// so that an object loads the same everywhere: <see cref="Default"/> holds values of the Linux 6.18 x86-64
/// configuration this project is checked against (listed in docs/differences.md). A configuration file can be
/// used instead with <see cref="Parse"/> or <see cref="TryLoadRunningKernel"/>.</para>
/// <para>How a value fills an extern follows libbpf: for bool and tristate externs <c>y</c> is 1 (tristate
/// <c>m</c> is 2, <c>n</c> is 0), a char takes the letter itself, integers take numbers (decimal, 0x hex or 0
/// octal) that fit their size, char arrays take quoted strings (truncated to size - 1). An extern missing from
/// the table is refused, naming it, unless it is <c>__weak</c>; then it is 0.</para>
/// </remarks>
public sealed class KconfigTable
{
    private readonly Dictionary<string, string> _values;

    private KconfigTable(Dictionary<string, string> values)
    {
        _values = values;
    }

    /// <summary>The built-in table (values of the Linux 6.18 x86-64 configuration; see docs/differences.md).</summary>
    public static KconfigTable Default { get; } = new(new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["CONFIG_64BIT"] = "y",
        ["CONFIG_X86"] = "y",
        ["CONFIG_X86_64"] = "y",
        ["CONFIG_SMP"] = "y",
        ["CONFIG_NUMA"] = "y",
        ["CONFIG_NR_CPUS"] = "256",
        ["CONFIG_PAGE_SHIFT"] = "12",
        ["CONFIG_HZ"] = "250",
        ["CONFIG_HZ_250"] = "y",
        ["CONFIG_PREEMPT_NONE"] = "y",
        ["CONFIG_PREEMPT_DYNAMIC"] = "y",
        ["CONFIG_BPF"] = "y",
        ["CONFIG_BPF_SYSCALL"] = "y",
        ["CONFIG_BPF_JIT"] = "y",
        ["CONFIG_BPF_JIT_ALWAYS_ON"] = "y",
        ["CONFIG_HAVE_EBPF_JIT"] = "y",
        ["CONFIG_BPF_EVENTS"] = "y",
        ["CONFIG_BPF_LSM"] = "y",
        ["CONFIG_BPF_STREAM_PARSER"] = "y",
        ["CONFIG_CGROUP_BPF"] = "y",
        ["CONFIG_DEBUG_INFO_BTF"] = "y",
        ["CONFIG_NET"] = "y",
        ["CONFIG_NET_NS"] = "y",
        ["CONFIG_INET"] = "y",
        ["CONFIG_IPV6"] = "y",
        ["CONFIG_IP_ROUTE_MULTIPATH"] = "y",
        ["CONFIG_XDP_SOCKETS"] = "y",
        ["CONFIG_VETH"] = "y",
        ["CONFIG_NET_CLS_ACT"] = "y",
        ["CONFIG_NET_CLS_BPF"] = "y",
        ["CONFIG_NET_SCH_INGRESS"] = "y",
        ["CONFIG_NETFILTER"] = "y",
        ["CONFIG_NF_CONNTRACK"] = "y",
        ["CONFIG_NF_CONNTRACK_MARK"] = "y",
        ["CONFIG_TRACING"] = "y",
        ["CONFIG_FTRACE"] = "y",
        ["CONFIG_DEFAULT_HOSTNAME"] = "\"(none)\"",
    });

    /// <summary>A table with no values: every strong CONFIG_ extern is refused.</summary>
    public static KconfigTable Empty { get; } = new(new Dictionary<string, string>(StringComparer.Ordinal));

    /// <summary>The values by name (<c>CONFIG_HZ</c> -> <c>250</c>).</summary>
    public IReadOnlyDictionary<string, string> Values => _values;

    /// <summary>The value of a config option as written in .config, or null.</summary>
    public string? this[string name] => _values.TryGetValue(name, out var v) ? v : null;

    /// <summary>Reads a .config file's text: <c>CONFIG_X=value</c> lines; comments (including
    /// <c># CONFIG_X is not set</c>) and blank lines are skipped, as libbpf does.</summary>
    public static KconfigTable Parse(string configText)
    {
        ArgumentNullException.ThrowIfNull(configText);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in configText.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#' || !line.StartsWith("CONFIG_", StringComparison.Ordinal))
            {
                continue;
            }

            int eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || eq == line.Length - 1)
            {
                continue;
            }

            values[line[..eq]] = line[(eq + 1)..];
        }

        return new KconfigTable(values);
    }

    /// <summary>This table with one value added or replaced.</summary>
    public KconfigTable With(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        var copy = new Dictionary<string, string>(_values, StringComparer.Ordinal) { [name] = value };
        return new KconfigTable(copy);
    }

    /// <summary>The running kernel's configuration from /proc/config.gz or /boot/config-RELEASE, or null when neither
    /// can be read.</summary>
    public static KconfigTable? TryLoadRunningKernel()
    {
        try
        {
            if (File.Exists("/proc/config.gz"))
            {
                using var file = File.OpenRead("/proc/config.gz");
                using var gz = new GZipStream(file, CompressionMode.Decompress);
                using var reader = new StreamReader(gz, Encoding.UTF8);
                return Parse(reader.ReadToEnd());
            }

            var release = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
            var path = "/boot/config-" + release;
            return File.Exists(path) ? Parse(File.ReadAllText(path)) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return null;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"kconfig ({_values.Count} values)");
}
