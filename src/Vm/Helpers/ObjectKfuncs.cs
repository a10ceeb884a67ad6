using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;

namespace VethXdp.Vm.Helpers;

/// <summary>The allocation kfuncs (kernel/bpf/helpers.c): bpf_obj_new_impl / bpf_obj_drop_impl and
/// bpf_percpu_obj_new_impl / bpf_percpu_obj_drop_impl. Objects come from the <see cref="ObjectArena"/> of a map of the
/// run whose value has a kptr field of the requested type, and live until they are dropped, or until the kptr field
/// that holds them is overwritten, deleted or freed with its map.</summary>
/// <remarks>
/// <para>The program passes the object's type as its id in the object's BTF (<c>bpf_core_type_id_local</c>: a CO-RE
/// relocation of kind BPF_CORE_TYPE_ID_LOCAL that the loader resolves). Linux's verifier turns that id into the size
/// at load time; the VM finds the size at run time from the maps' kptr fields (<see cref="MapSpec.KptrFields"/>),
/// so it can allocate only types some map value holds a kptr to (a difference: Linux allocates any struct of the
/// object's BTF; docs/differences.md).</para>
/// <para>meta__ign (the second argument) is what the verifier rewrites; the program's value is ignored, as in Linux.</para>
/// </remarks>
public static class ObjectKfuncs
{
    /// <summary><c>void *bpf_obj_new_impl(u64 local_type_id__k, void *meta__ign)</c>: a zeroed object of the type, or
    /// NULL when the arena is full.</summary>
    public static ulong ObjNewImpl(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        New(env, r1, percpu: false);

    /// <summary><c>void *bpf_percpu_obj_new_impl(u64 local_type_id__k, void *meta__ign)</c>: a per-CPU object (one
    /// zeroed copy per possible CPU), or NULL when the arena is full.</summary>
    public static ulong PercpuObjNewImpl(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        New(env, r1, percpu: true);

    /// <summary><c>void bpf_obj_drop_impl(void *p__alloc, void *meta__ign)</c>: frees an object of bpf_obj_new_impl.</summary>
    public static ulong ObjDropImpl(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        Drop(env, r1, percpu: false);

    /// <summary><c>void bpf_percpu_obj_drop_impl(void *p__alloc, void *meta__ign)</c>: frees a per-CPU object.</summary>
    public static ulong PercpuObjDropImpl(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        Drop(env, r1, percpu: true);

    /// <summary>The kptr field of the run's maps whose pointee is local type <paramref name="typeId"/> (per-CPU or
    /// not as asked, else of either kind), and the map whose arena serves it.</summary>
    public static bool TryFindType(RuntimeEnv env, uint typeId, bool percpu, out BpfMap? map, out KptrField? field)
    {
        ArgumentNullException.ThrowIfNull(env);
        map = null;
        field = null;
        if (env.Maps is not IReadOnlyList<BpfMap> maps)
        {
            return false;
        }

        for (int pass = 0; pass < 2; pass++)
        {
            for (int i = 0; i < maps.Count; i++)
            {
                var m = maps[i];
                if (m.Objects is null)
                {
                    continue;
                }

                var fields = m.Spec.KptrFields;
                for (int f = 0; f < fields.Count; f++)
                {
                    if (fields[f].TypeId == typeId && (pass == 1 || fields[f].Percpu == percpu))
                    {
                        map = m;
                        field = fields[f];
                        return true;
                    }
                }
            }
        }

        return false;
    }

    private static ulong New(RuntimeEnv env, ulong typeId, bool percpu)
    {
        ArgumentNullException.ThrowIfNull(env);
        var id = percpu ? KfuncId.PercpuObjNewImpl : KfuncId.ObjNewImpl;
        if (typeId > uint.MaxValue || !TryFindType(env, (uint)typeId, percpu, out var map, out var field))
        {
            throw new ExecutionFaultException(
                FaultKind.NotSupported,
                $"{Kfuncs.NameOf(id)}: local type id {typeId} is not the type of a __kptr or __percpu_kptr field of any map of the object (the VM sizes objects from the maps' BTF)");
        }

        return map!.Objects!.Allocate(field!.Size, percpu ? Math.Max(env.PossibleCpus, 1) : 0, field.TypeId);
    }

    private static ulong Drop(RuntimeEnv env, ulong pointer, bool percpu)
    {
        ArgumentNullException.ThrowIfNull(env);
        var id = percpu ? KfuncId.PercpuObjDropImpl : KfuncId.ObjDropImpl;
        if (!ObjectArena.TryFind(pointer, out var arena, out var info) || info.IsPercpu != percpu)
        {
            // kernel: the verifier lets only an owned allocated object (of the right kind) reach the drop kfuncs.
            throw new ExecutionFaultException(
                FaultKind.HelperFailed,
                $"{Kfuncs.NameOf(id)}: 0x{pointer:x} is not a{(percpu ? " per-CPU" : "n")} object of {(percpu ? "bpf_percpu_obj_new_impl" : "bpf_obj_new_impl")} (freed already, or never allocated)");
        }

        arena.Free(pointer);
        return 0;
    }
}
