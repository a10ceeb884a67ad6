using System.Diagnostics.CodeAnalysis;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Memory;

namespace VethXdp.Vm.Maps;

/// <summary>A map of a type the kernel creates but this VM does not model (sockmap, sockhash,
/// reuseport_sockarray, stack_trace, cgroup_array, the cgroup/sk/inode storages, struct_ops,
/// arena): it exists, so an object that holds one loads whole as libbpf loads it (typically it belongs to a program
/// of another type in the same object, such as an sk_reuseport or tc program next to the XDP one), but it holds
/// nothing.</summary>
/// <remarks>
/// A program that uses it stops with a fault naming the map (<see cref="FaultKind.NotSupported"/>), rather than
/// silently seeing it empty. From user space it lists no entries; lookups give -ENOENT and updates -EOPNOTSUPP.
/// </remarks>
public sealed class UnmodelledMap : BpfMap
{
    /// <summary>Creates the placeholder for <paramref name="spec"/>.</summary>
    public UnmodelledMap(MapSpec spec, int possibleCpus)
        : base(spec, possibleCpus)
    {
    }

    /// <summary>True for the kernel map types this VM creates as placeholders.</summary>
    /// <param name="type">The map type.</param>
    public static bool IsUnmodelled(MapType type) => type is MapType.StackTrace or MapType.CgroupArray or
        MapType.Sockmap or MapType.Sockhash or MapType.CgroupStorage or MapType.ReuseportSockarray or
        MapType.PercpuCgroupStorage or MapType.SkStorage or MapType.StructOps or MapType.InodeStorage or
        MapType.Arena;

    /// <summary>True for the types the kernel requires a max_entries of 0 for (local storages).</summary>
    /// <param name="type">The map type.</param>
    public static bool RequiresZeroMaxEntries(MapType type) => type is MapType.CgroupStorage or
        MapType.PercpuCgroupStorage or MapType.SkStorage or MapType.InodeStorage or MapType.TaskStorage or
        MapType.CgrpStorage;

    /// <inheritdoc/>
    public override IReadOnlyList<MemoryRegion> ValueRegions => [];

    /// <inheritdoc/>
    public override ulong Lookup(ReadOnlySpan<byte> key, int cpu) => ThrowNotModelled();

    /// <inheritdoc/>
    public override long Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, int cpu) => (long)ThrowNotModelled();

    /// <inheritdoc/>
    public override long Delete(ReadOnlySpan<byte> key) => (long)ThrowNotModelled();

    /// <inheritdoc/>
    public override long Push(ReadOnlySpan<byte> value, ulong flags) => (long)ThrowNotModelled();

    /// <inheritdoc/>
    public override long Pop(Span<byte> value) => (long)ThrowNotModelled();

    /// <inheritdoc/>
    public override long Peek(Span<byte> value) => (long)ThrowNotModelled();

    /// <inheritdoc/>
    public override int UserLookup(ReadOnlySpan<byte> key, Span<byte> value) => -Errno.ENOENT;

    /// <inheritdoc/>
    public override int UserUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags) => -Errno.EOPNOTSUPP;

    /// <inheritdoc/>
    public override int UserDelete(ReadOnlySpan<byte> key) => -Errno.ENOENT;

    /// <inheritdoc/>
    public override int GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) => -Errno.ENOENT;

    [DoesNotReturn]
    private ulong ThrowNotModelled() =>
        throw new ExecutionFaultException(
            FaultKind.NotSupported,
            $"map {Name}: {MapTypeNames.ToName(Type)} maps are not modelled by this VM (it creates them so that the object loads, as the kernel does, but holds nothing in them)");
}
