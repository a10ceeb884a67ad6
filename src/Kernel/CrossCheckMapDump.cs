using VethXdp.Vm.Maps;

namespace VethXdp.Kernel;

/// <summary>A map in the canonical form both sides of a cross-check are dumped to: keys and values as lowercase hex
/// (per-CPU maps one value per CPU, value_size bytes each, without the kernel's padding to 8), references by name
/// ("prog NAME", "map NAME", "ifindex N, prog NAME"), and bytes left out of the comparison shown as "--".</summary>
/// <param name="Name">The map's name.</param>
/// <param name="Type">The map's type.</param>
/// <param name="Entries">The entries: sorted by key for keyed maps (compared as sets), in pop order for queues and
/// stacks (compared element by element, keys "#0", "#1", ...).</param>
/// <param name="Ordered">True for queues and stacks: the order is part of the contents.</param>
public sealed record CrossCheckMapDump(string Name, MapType Type, IReadOnlyList<CrossCheckMapEntry> Entries, bool Ordered = false);
