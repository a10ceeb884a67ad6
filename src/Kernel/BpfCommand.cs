namespace VethXdp.Kernel;

/// <summary>bpf() commands, with Linux's values (include/uapi/linux/bpf.h, enum bpf_cmd).</summary>
public enum BpfCommand
{
#pragma warning disable CS1591 // the kernel's names are the documentation
    MapCreate = 0,
    MapLookupElem = 1,
    MapUpdateElem = 2,
    MapDeleteElem = 3,
    MapGetNextKey = 4,
    ProgLoad = 5,
    ObjPin = 6,
    ObjGet = 7,
    ProgAttach = 8,
    ProgDetach = 9,
    ProgTestRun = 10,
    ProgGetNextId = 11,
    MapGetNextId = 12,
    ProgGetFdById = 13,
    MapGetFdById = 14,
    ObjGetInfoByFd = 15,
    ProgQuery = 16,
    RawTracepointOpen = 17,
    BtfLoad = 18,
    BtfGetFdById = 19,
    TaskFdQuery = 20,
    MapLookupAndDeleteElem = 21,
    MapFreeze = 22,
#pragma warning restore CS1591
}

/// <summary>The kernel's spelling of <see cref="BpfCommand"/> values.</summary>
public static class BpfCommandNames
{
    /// <summary>"BPF_PROG_LOAD" for <see cref="BpfCommand.ProgLoad"/>, and so on.</summary>
    /// <param name="command">The command.</param>
    public static string Name(BpfCommand command) => command switch
    {
        BpfCommand.MapCreate => "BPF_MAP_CREATE",
        BpfCommand.MapLookupElem => "BPF_MAP_LOOKUP_ELEM",
        BpfCommand.MapUpdateElem => "BPF_MAP_UPDATE_ELEM",
        BpfCommand.MapDeleteElem => "BPF_MAP_DELETE_ELEM",
        BpfCommand.MapGetNextKey => "BPF_MAP_GET_NEXT_KEY",
        BpfCommand.ProgLoad => "BPF_PROG_LOAD",
        BpfCommand.ObjPin => "BPF_OBJ_PIN",
        BpfCommand.ObjGet => "BPF_OBJ_GET",
        BpfCommand.ProgAttach => "BPF_PROG_ATTACH",
        BpfCommand.ProgDetach => "BPF_PROG_DETACH",
        BpfCommand.ProgTestRun => "BPF_PROG_TEST_RUN",
        BpfCommand.ProgGetNextId => "BPF_PROG_GET_NEXT_ID",
        BpfCommand.MapGetNextId => "BPF_MAP_GET_NEXT_ID",
        BpfCommand.ProgGetFdById => "BPF_PROG_GET_FD_BY_ID",
        BpfCommand.MapGetFdById => "BPF_MAP_GET_FD_BY_ID",
        BpfCommand.ObjGetInfoByFd => "BPF_OBJ_GET_INFO_BY_FD",
        BpfCommand.ProgQuery => "BPF_PROG_QUERY",
        BpfCommand.RawTracepointOpen => "BPF_RAW_TRACEPOINT_OPEN",
        BpfCommand.BtfLoad => "BPF_BTF_LOAD",
        BpfCommand.BtfGetFdById => "BPF_BTF_GET_FD_BY_ID",
        BpfCommand.TaskFdQuery => "BPF_TASK_FD_QUERY",
        BpfCommand.MapLookupAndDeleteElem => "BPF_MAP_LOOKUP_AND_DELETE_ELEM",
        BpfCommand.MapFreeze => "BPF_MAP_FREEZE",
        _ => $"bpf cmd {(int)command}",
    };
}
