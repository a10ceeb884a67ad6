namespace VethXdp.Kernel;

/// <summary>A socket the kernel side of a cross-check needs (for bpf_sk_lookup_* and the syncookie helpers), in the
/// corpus manifest's terms: <c>{"proto": "tcp", "listen": "10.0.0.254:80"}</c>, <c>{"proto": "udp", "bind":
/// "10.0.0.254:53"}</c>, <c>{"proto": "tcp", "connect": "10.0.0.254:40001->10.0.0.254:80"}</c>.</summary>
/// <param name="Proto">"tcp" or "udp".</param>
/// <param name="Listen">A TCP listener's address ("10.0.0.254:80", "[fd00::fe]:80"), or null.</param>
/// <param name="Bind">A bound (unconnected) socket's address, or null.</param>
/// <param name="Connect">"LOCAL->REMOTE": a socket bound to LOCAL and connected to REMOTE, or null.</param>
public sealed record CrossCheckSocket(string Proto, string? Listen = null, string? Bind = null, string? Connect = null);
