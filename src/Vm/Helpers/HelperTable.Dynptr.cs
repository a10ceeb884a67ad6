namespace VethXdp.Vm.Helpers;

public sealed partial class HelperTable
{
    // The dynptr helpers.
    static partial void RegisterDynptr(HelperTable table)
    {
        table.Register(197, "bpf_dynptr_from_mem", DynptrHelpers.FromMem);
        table.Register(198, "bpf_ringbuf_reserve_dynptr", DynptrHelpers.RingbufReserve);
        table.Register(199, "bpf_ringbuf_submit_dynptr", DynptrHelpers.RingbufSubmit);
        table.Register(200, "bpf_ringbuf_discard_dynptr", DynptrHelpers.RingbufDiscard);
        table.Register(201, "bpf_dynptr_read", DynptrHelpers.Read);
        table.Register(202, "bpf_dynptr_write", DynptrHelpers.Write);
        table.Register(203, "bpf_dynptr_data", DynptrHelpers.Data);
    }
}
