namespace VethXdp.Vm.Maps;

/// <summary>One object of an <see cref="ObjectArena"/>.</summary>
/// <param name="Total">Bytes it takes (all CPUs' copies).</param>
/// <param name="Stride">Bytes between two CPUs' copies of a per-CPU object; 0 for an ordinary object.</param>
/// <param name="Cpus">Copies of a per-CPU object; 0 for an ordinary object.</param>
/// <param name="TypeId">The local BTF type id it was made for.</param>
public readonly record struct ObjectInfo(int Total, int Stride, int Cpus, uint TypeId)
{
    /// <summary>True for an object of bpf_percpu_obj_new_impl.</summary>
    public bool IsPercpu => Cpus != 0;
}
