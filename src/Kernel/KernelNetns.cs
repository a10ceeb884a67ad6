using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace VethXdp.Kernel;

/// <summary>A network namespace with the devices, addresses, routes and neighbours a program needs (devmap
/// targets, bpf_fib_lookup), made with iproute2's <c>ip</c>, and entered by the calling thread with setns(2) so that
/// BPF_PROG_TEST_RUN's ingress device, devmap updates and the FIB are the namespace's.</summary>
/// <remarks>Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and <c>ip</c> on the PATH. Disposing deletes the namespace
/// and every device in it.</remarks>
public sealed class KernelNetns : IDisposable
{
    private static readonly Lazy<(bool Ok, string Reason)> s_available = new(Probe);
    private static int s_counter;
    private bool _disposed;

    private KernelNetns(string name) => Name = name;

    /// <summary>The namespace's name (<c>ip netns</c>; /run/netns/NAME).</summary>
    public string Name { get; }

    /// <summary>True when <c>ip</c> is on the PATH and this process may create namespaces (checked once per process,
    /// by creating and deleting one); <paramref name="reason"/> says why not.</summary>
    /// <param name="reason">Why namespaces are unavailable, or "ok".</param>
    public static bool IsAvailable(out string reason)
    {
        (bool ok, reason) = s_available.Value;
        return ok;
    }

    /// <summary>Creates the namespace and everything <paramref name="spec"/> lists, in this order: loopback up, veth
    /// pairs (both ends up), IPv4 forwarding when asked, addresses, routes, neighbours.</summary>
    /// <param name="spec">What the namespace holds.</param>
    /// <exception cref="InvalidOperationException">An <c>ip</c> command failed (its stderr is in the message).</exception>
    public static KernelNetns Create(NetnsSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        string name = $"vethxdp-{Environment.ProcessId}-{Interlocked.Increment(ref s_counter)}";
        Ip("netns", "add", name);
        var ns = new KernelNetns(name);
        try
        {
            ns.In("link", "set", "lo", "up");
            foreach (var v in spec.Veths)
            {
                var args = new List<string> { "link", "add", v.Name };
                if (v.Mac is not null)
                {
                    args.AddRange(["address", v.Mac]);
                }

                args.AddRange(["type", "veth", "peer", "name", v.Peer]);
                if (v.PeerMac is not null)
                {
                    args.AddRange(["address", v.PeerMac]);
                }

                ns.In([.. args]);
                ns.In("link", "set", v.Name, "up");
                ns.In("link", "set", v.Peer, "up");
            }

            if (spec.Forwarding)
            {
                Run("ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv4.conf.all.forwarding=1", "net.ipv6.conf.all.forwarding=1");
            }

            foreach (var a in spec.Addresses)
            {
                ns.In("addr", "add", a.Cidr, "dev", a.Device);
            }

            foreach (var r in spec.Routes)
            {
                ns.In(r.Via is null
                    ? ["route", "add", r.Destination, "dev", r.Device]
                    : ["route", "add", r.Destination, "via", r.Via, "dev", r.Device]);
            }

            foreach (var n in spec.Neighbours)
            {
                ns.In("neigh", "replace", n.Address, "lladdr", n.Mac, "dev", n.Device, "nud", "permanent");
            }

            return ns;
        }
        catch
        {
            ns.Dispose();
            throw;
        }
    }

    private static (bool, string) Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return (false, "network namespaces are Linux's");
        }

        try
        {
            using var ns = Create(new NetnsSpec());
            using (ns.Enter())
            {
            }

            return (true, "ok");
        }
        catch (InvalidOperationException e)
        {
            return (false, e.Message);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (false, $"cannot run ip: {e.Message}");
        }
        catch (UnauthorizedAccessException e)
        {
            return (false, e.Message);
        }
    }

    /// <summary>The ifindex of <paramref name="device"/> inside the namespace.</summary>
    /// <param name="device">The device's name.</param>
    public uint Ifindex(string device)
    {
        string json = Run("ip", "-n", Name, "-j", "link", "show", "dev", device);
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement[0].GetProperty("ifindex").GetUInt32();
    }

    /// <summary>Moves the calling thread into the namespace until the scope is disposed (on the same thread), which
    /// moves it back. bpf() commands on this thread then see the namespace's devices.</summary>
    /// <exception cref="InvalidOperationException">setns failed.</exception>
    public Scope Enter()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var original = File.OpenHandle("/proc/thread-self/ns/net");
        using var target = File.OpenHandle($"/run/netns/{Name}");
        SetNs(target);
        return new Scope(original);
    }

    /// <summary>Runs <c>ip -n NAME args...</c>; returns its standard output.</summary>
    /// <param name="args">The arguments after <c>ip -n NAME</c>.</param>
    /// <exception cref="InvalidOperationException">ip failed.</exception>
    public string In(params string[] args)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return Run("ip", ["-n", Name, .. args]);
    }

    /// <summary>Deletes the namespace (and its devices).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            Ip("netns", "del", Name);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }

    private static void SetNs(SafeFileHandle target)
    {
        if (LibC.SetNs((int)target.DangerousGetHandle(), LibC.CloneNewNet) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new InvalidOperationException($"setns(CLONE_NEWNET): {ErrnoNames.Name(errno)} ({ErrnoNames.Describe(errno)})");
        }
    }

    private static string Ip(params string[] args) => Run("ip", args);

    private static string Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return p.ExitCode == 0
            ? stdout
            : throw new InvalidOperationException($"{file} {string.Join(' ', args)}: exit {p.ExitCode}: {stderr.Result.Trim()}");
    }

    /// <summary>The calling thread's stay in the namespace; disposing returns it to where it was.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly SafeFileHandle? _original;

        internal Scope(SafeFileHandle original) => _original = original;

        /// <summary>Returns the thread to its original network namespace.</summary>
        public void Dispose()
        {
            if (_original is null)
            {
                return;
            }

            SetNs(_original);
            _original.Dispose();
        }
    }
}

/// <summary>What a <see cref="KernelNetns"/> holds.</summary>
public sealed record NetnsSpec
{
    /// <summary>veth pairs; both ends live in the namespace.</summary>
    public IReadOnlyList<VethPairSpec> Veths { get; init; } = [];

    /// <summary>Addresses ("10.0.0.1/24" on a device).</summary>
    public IReadOnlyList<NetnsAddress> Addresses { get; init; } = [];

    /// <summary>Routes.</summary>
    public IReadOnlyList<NetnsRoute> Routes { get; init; } = [];

    /// <summary>Permanent neighbours (ARP / NDP entries).</summary>
    public IReadOnlyList<NetnsNeighbour> Neighbours { get; init; } = [];

    /// <summary>IPv4 and IPv6 forwarding on (bpf_fib_lookup answers BPF_FIB_LKUP_RET_FWD_DISABLED without it).</summary>
    public bool Forwarding { get; init; }
}

/// <summary>A veth pair.</summary>
/// <param name="Name">One end.</param>
/// <param name="Peer">The other end.</param>
/// <param name="Mac">The first end's MAC ("02:00:00:00:00:01"), or null for a random one.</param>
/// <param name="PeerMac">The peer's MAC, or null.</param>
public sealed record VethPairSpec(string Name, string Peer, string? Mac = null, string? PeerMac = null);

/// <summary>An address on a device.</summary>
/// <param name="Device">The device.</param>
/// <param name="Cidr">The address with its prefix length ("10.0.0.1/24", "fd00::1/64").</param>
public sealed record NetnsAddress(string Device, string Cidr);

/// <summary>A route.</summary>
/// <param name="Destination">The prefix ("10.2.0.0/16", "default").</param>
/// <param name="Via">The gateway, or null for a directly connected route.</param>
/// <param name="Device">The output device.</param>
public sealed record NetnsRoute(string Destination, string? Via, string Device);

/// <summary>A permanent neighbour entry.</summary>
/// <param name="Address">The IP address.</param>
/// <param name="Mac">Its MAC.</param>
/// <param name="Device">The device it is reached through.</param>
public sealed record NetnsNeighbour(string Address, string Mac, string Device);
