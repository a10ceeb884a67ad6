using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Maps;

namespace VethXdp.Vm.Helpers;

/// <summary>Task and cgroup local storage helpers (kernel/bpf/bpf_task_storage.c, bpf_cgrp_storage.c) over
/// <see cref="LocalStorageMap"/>. The only task is the run's current task; the VM has no cgroup objects, so the only
/// cgroup a program can pass is NULL.</summary>
public static class ProcessStorageHelpers
{
    /// <summary>BPF_LOCAL_STORAGE_GET_F_CREATE.</summary>
    public const ulong GetCreate = 1;

    /// <summary>bpf_task_storage_get(map, task, value, flags) (156): the task's value (created from value, or zeroed
    /// when value is NULL, with BPF_LOCAL_STORAGE_GET_F_CREATE); NULL for unknown flags, a NULL task, or no value.</summary>
    public static ulong TaskStorageGet(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        var map = Storage(env, r1, MapType.TaskStorage, 156);
        var initial = r3 != 0 ? env.Load(r3, (int)map.Spec.ValueSize) : default;
        if ((r4 & ~GetCreate) != 0 || r2 == 0)
        {
            return 0;
        }

        ProcessState.Of(env).CheckTask(r2, 2);
        return map.Get(r2, initial, (r4 & GetCreate) != 0);
    }

    /// <summary>bpf_task_storage_delete(map, task) (157): 0, -ENOENT when the task has no value, -EINVAL for a NULL
    /// task.</summary>
    public static ulong TaskStorageDelete(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        var map = Storage(env, r1, MapType.TaskStorage, 157);
        if (r2 == 0)
        {
            return ProcessHelpers.Err(Errno.EINVAL);
        }

        ProcessState.Of(env).CheckTask(r2, 2);
        return (ulong)(long)map.Remove(r2);
    }

    /// <summary>bpf_cgrp_storage_get(map, cgroup, value, flags) (210): NULL for unknown flags or a NULL cgroup (the
    /// only cgroup pointer a program can have here).</summary>
    public static ulong CgrpStorageGet(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        var map = Storage(env, r1, MapType.CgrpStorage, 210);
        if (r3 != 0)
        {
            env.Load(r3, (int)map.Spec.ValueSize);
        }

        if ((r4 & ~GetCreate) != 0 || r2 == 0)
        {
            return 0;
        }

        return ThrowNotCgroup(r2);
    }

    /// <summary>bpf_cgrp_storage_delete(map, cgroup) (211): -EINVAL for a NULL cgroup.</summary>
    public static ulong CgrpStorageDelete(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        Storage(env, r1, MapType.CgrpStorage, 211);
        return r2 == 0 ? ProcessHelpers.Err(Errno.EINVAL) : ThrowNotCgroup(r2);
    }

    private static LocalStorageMap Storage(RuntimeEnv env, ulong handle, MapType type, int func)
    {
        ArgumentNullException.ThrowIfNull(env);
        var map = env.ResolveMap(handle);
        ProcessHelpers.RequireMapType(map, type, func);
        return map as LocalStorageMap
            ?? throw new ExecutionFaultException(FaultKind.NotSupported, $"map {map.Name}: not a local storage map this VM implements");
    }

    private static ulong ThrowNotCgroup(ulong pointer) =>
        throw new ExecutionFaultException(FaultKind.HelperFailed, $"R2 is not a pointer to a cgroup (0x{pointer:x}): this VM has no cgroup objects");
}
