namespace VethXdp.Vm.Maps;

/// <summary>A <c>__kptr</c> or <c>__percpu_kptr</c> field of a map value (kernel: a btf_field of type BPF_KPTR_REF or
/// BPF_KPTR_PERCPU): an 8-byte pointer to an object the program allocated, found from the value's BTF (a pointer
/// member whose pointee carries the type tag "kptr" or "percpu_kptr").</summary>
/// <param name="Offset">Byte offset of the field in the value.</param>
/// <param name="Percpu">True for <c>__percpu_kptr</c> (an object of bpf_percpu_obj_new_impl).</param>
/// <param name="TypeId">The pointee's local BTF type id (the struct, past modifiers and typedefs): the id
/// bpf_core_type_id_local gives bpf_obj_new_impl for the same type.</param>
/// <param name="TypeName">The pointee's name.</param>
/// <param name="Size">The pointee's size in bytes (one CPU's copy for per-CPU objects).</param>
public sealed record KptrField(int Offset, bool Percpu, uint TypeId, string TypeName, uint Size)
{
    /// <summary>Size of the field: one pointer.</summary>
    public const int FieldSize = 8;
}
