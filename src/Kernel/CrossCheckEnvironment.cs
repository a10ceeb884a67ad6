namespace VethXdp.Kernel;

/// <summary>The network namespace a cross-check's kernel side runs in: made fresh for the run with iproute2 and
/// sysctl commands (as the corpus manifest spells its environments), holding the sockets the run needs, and deleted
/// afterwards.</summary>
public sealed record CrossCheckEnvironment
{
    /// <summary>A structured description (veth pairs, addresses, routes, neighbours), made first; or null.</summary>
    public NetnsSpec? Netns { get; init; }

    /// <summary>Commands run in the namespace after <see cref="Netns"/>, in order: <c>ip ...</c> lines (run as
    /// <c>ip -n NAME ...</c>) and <c>sysctl ...</c> lines (run with <c>ip netns exec NAME</c>). Arguments are separated
    /// by spaces; nothing is quoted.</summary>
    public IReadOnlyList<string> Commands { get; init; } = [];

    /// <summary>Sockets opened inside the namespace before the program loads, and closed after the run.</summary>
    public IReadOnlyList<CrossCheckSocket> Sockets { get; init; } = [];
}

/// <summary>A socket the kernel side of a cross-check needs (for bpf_sk_lookup_* and the syncookie helpers), in the
/// corpus manifest's terms: <c>{"proto": "tcp", "listen": "10.0.0.254:80"}</c>, <c>{"proto": "udp", "bind":
/// "10.0.0.254:53"}</c>, <c>{"proto": "tcp", "connect": "10.0.0.254:40001->10.0.0.254:80"}</c>.</summary>
/// <param name="Proto">"tcp" or "udp".</param>
/// <param name="Listen">A TCP listener's address ("10.0.0.254:80", "[fd00::fe]:80"), or null.</param>
/// <param name="Bind">A bound (unconnected) socket's address, or null.</param>
/// <param name="Connect">"LOCAL->REMOTE": a socket bound to LOCAL and connected to REMOTE, or null.</param>
public sealed record CrossCheckSocket(string Proto, string? Listen = null, string? Bind = null, string? Connect = null);
