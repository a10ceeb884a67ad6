namespace VethXdp.Vm.Helpers;

public sealed partial class HelperTable
{
    /// <summary>Registers the helpers of the <see cref="HelperGroup.Process"/>, <see cref="HelperGroup.Timer"/> and
    /// <see cref="HelperGroup.Other"/> groups of <see cref="XdpHelperSet"/> in <paramref name="table"/>: the current
    /// task, its cgroups, signals and storage (<see cref="ProcessHelpers"/>, <see cref="ProcessStorageHelpers"/>),
    /// BPF timers (<see cref="TimerHelpers"/>), and BTF printing, per-CPU pointers, branch records, kptrs and user ring
    /// buffers (<see cref="MiscHelpers"/>).</summary>
    public static void AddProcessGroups(HelperTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        Add(table, 14, ProcessHelpers.GetCurrentPidTgid);
        Add(table, 15, ProcessHelpers.GetCurrentUidGid);
        Add(table, 16, ProcessHelpers.GetCurrentComm);
        Add(table, 17, ProcessHelpers.GetCgroupClassid);
        Add(table, 35, ProcessHelpers.GetCurrentTask);
        Add(table, 37, ProcessHelpers.CurrentTaskUnderCgroup);
        Add(table, 80, ProcessHelpers.GetCurrentCgroupId);
        Add(table, 109, ProcessHelpers.SendSignal);
        Add(table, 117, ProcessHelpers.SendSignalThread);
        Add(table, 120, ProcessHelpers.GetNsCurrentPidTgid);
        Add(table, 123, ProcessHelpers.GetCurrentAncestorCgroupId);
        Add(table, 141, ProcessHelpers.GetTaskStack);
        Add(table, 148, ProcessHelpers.CopyFromUser);
        Add(table, 158, ProcessHelpers.GetCurrentTaskBtf);
        Add(table, 175, ProcessHelpers.TaskPtRegs);
        Add(table, 180, ProcessHelpers.FindVma);
        Add(table, 191, ProcessHelpers.CopyFromUserTask);

        Add(table, 156, ProcessStorageHelpers.TaskStorageGet);
        Add(table, 157, ProcessStorageHelpers.TaskStorageDelete);
        Add(table, 210, ProcessStorageHelpers.CgrpStorageGet);
        Add(table, 211, ProcessStorageHelpers.CgrpStorageDelete);

        Add(table, 169, TimerHelpers.TimerInit);
        Add(table, 170, TimerHelpers.TimerSetCallback);
        Add(table, 171, TimerHelpers.TimerStart);
        Add(table, 172, TimerHelpers.TimerCancel);

        Add(table, 149, MiscHelpers.SnprintfBtf);
        Add(table, 153, MiscHelpers.PerCpuPtr);
        Add(table, 154, MiscHelpers.ThisCpuPtr);
        Add(table, 176, MiscHelpers.GetBranchSnapshot);
        Add(table, 194, MiscHelpers.KptrXchg);
        Add(table, 209, MiscHelpers.UserRingbufDrain);
    }

    // The Process, Timer and Other groups; CreateDefault calls this hook.
    static partial void RegisterProcess(HelperTable table);

    static partial void RegisterProcess(HelperTable table) => AddProcessGroups(table);

    private static void Add(HelperTable table, int id, HelperFunc f) =>
        table.Register(id, Isa.HelperNames.Name(id) ?? throw new InvalidOperationException($"helper {id} has no name"), f);
}
