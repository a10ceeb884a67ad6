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
