namespace VethXdp.Vm.Helpers;

public sealed partial class HelperTable
{
    // The helpers this file set implements: maps, time, CPU and randomness, printing, memory probes, strings,
    // callbacks, tail calls, the XDP packet helpers, redirects, ring buffers and perf events.
    private static void RegisterCore(HelperTable t)
    {
        t.Register(HelperId.MapLookupElem, MapHelpers.MapLookupElem);
        t.Register(HelperId.MapUpdateElem, MapHelpers.MapUpdateElem);
        t.Register(HelperId.MapDeleteElem, MapHelpers.MapDeleteElem);
        t.Register(HelperId.MapPushElem, MapHelpers.MapPushElem);
        t.Register(HelperId.MapPopElem, MapHelpers.MapPopElem);
        t.Register(HelperId.MapPeekElem, MapHelpers.MapPeekElem);
        t.Register(HelperId.MapLookupPercpuElem, MapHelpers.MapLookupPercpuElem);

        t.Register(HelperId.KtimeGetNs, TimeHelpers.KtimeGetNs);
        t.Register(HelperId.KtimeGetBootNs, TimeHelpers.KtimeGetBootNs);
        t.Register(HelperId.KtimeGetCoarseNs, TimeHelpers.KtimeGetCoarseNs);
        t.Register(HelperId.KtimeGetTaiNs, TimeHelpers.KtimeGetTaiNs);
        t.Register(HelperId.Jiffies64, TimeHelpers.Jiffies64);

        t.Register(HelperId.GetPrandomU32, SystemHelpers.GetPrandomU32);
        t.Register(HelperId.GetSmpProcessorId, SystemHelpers.GetSmpProcessorId);
        t.Register(HelperId.GetNumaNodeId, SystemHelpers.GetNumaNodeId);
        t.Register(HelperId.ProbeReadKernel, SystemHelpers.ProbeReadKernel);
        t.Register(HelperId.ProbeReadKernelStr, SystemHelpers.ProbeReadKernelStr);
        t.Register(HelperId.ProbeReadUser, SystemHelpers.ProbeReadUser);
        t.Register(HelperId.ProbeReadUserStr, SystemHelpers.ProbeReadUserStr);
        t.Register(HelperId.Strtol, SystemHelpers.Strtol);
        t.Register(HelperId.Strtoul, SystemHelpers.Strtoul);
        t.Register(HelperId.Strncmp, SystemHelpers.Strncmp);

        t.Register(HelperId.TracePrintk, PrintHelpers.TracePrintk);
        t.Register(HelperId.TraceVprintk, PrintHelpers.TraceVprintk);
        t.Register(HelperId.Snprintf, PrintHelpers.Snprintf);

        t.Register(HelperId.Loop, LoopHelpers.Loop);
        t.Register(HelperId.ForEachMapElem, LoopHelpers.ForEachMapElem);

        t.Register(HelperId.XdpAdjustHead, XdpHelpers.XdpAdjustHead);
        t.Register(HelperId.XdpAdjustMeta, XdpHelpers.XdpAdjustMeta);
        t.Register(HelperId.XdpAdjustTail, XdpHelpers.XdpAdjustTail);
        t.Register(HelperId.XdpGetBuffLen, XdpHelpers.XdpGetBuffLen);
        t.Register(HelperId.XdpLoadBytes, XdpHelpers.XdpLoadBytes);
        t.Register(HelperId.XdpStoreBytes, XdpHelpers.XdpStoreBytes);
        t.Register(HelperId.Redirect, XdpHelpers.Redirect);
        t.Register(HelperId.TailCall, TailCallHelpers.TailCall);
        t.Register(HelperId.PerfEventOutput, EventHelpers.PerfEventOutput);
        t.Register(HelperId.PerfEventRead, EventHelpers.PerfEventRead);
        t.Register(HelperId.PerfEventReadValue, EventHelpers.PerfEventReadValue);
        t.Register(HelperId.RingbufOutput, EventHelpers.RingbufOutput);
        t.Register(HelperId.RingbufReserve, EventHelpers.RingbufReserve);
        t.Register(HelperId.RingbufSubmit, EventHelpers.RingbufSubmit);
        t.Register(HelperId.RingbufDiscard, EventHelpers.RingbufDiscard);
        t.Register(HelperId.RingbufQuery, EventHelpers.RingbufQuery);
        t.Register(HelperId.RedirectMap, XdpHelpers.RedirectMap);
    }
}
