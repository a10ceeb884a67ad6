using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;

namespace VethXdp.Vm.Helpers;

/// <summary>Which helpers may take which map types: the kernel verifier's <c>check_map_func_compatibility()</c>,
/// checked here when the helper runs (there is no verifier yet), with the kernel's message.</summary>
public static class MapFuncCompat
{
    /// <summary>True when helper <paramref name="func"/> accepts a map of type <paramref name="type"/>.</summary>
    public static bool Allowed(MapType type, HelperId func)
    {
        // The map's side: some map types work with a few helpers only.
        bool mapSide = type switch
        {
            MapType.ProgArray => func == HelperId.TailCall,
            MapType.PerfEventArray => func is HelperId.PerfEventOutput or HelperId.PerfEventRead or HelperId.PerfEventReadValue || (int)func is 111 or 121,
            MapType.Ringbuf => func is HelperId.RingbufOutput or HelperId.RingbufReserve or HelperId.RingbufQuery || (int)func is 198 or 199 or 200,
            MapType.UserRingbuf => (int)func == 209,
            MapType.StackTrace => (int)func == 27,
            MapType.CgroupArray => (int)func is 33 or 37,
            MapType.Devmap or MapType.DevmapHash => func is HelperId.RedirectMap or HelperId.MapLookupElem,
            MapType.Cpumap => func == HelperId.RedirectMap,
            MapType.Xskmap => func is HelperId.RedirectMap or HelperId.MapLookupElem,
            MapType.ArrayOfMaps or MapType.HashOfMaps => func == HelperId.MapLookupElem,
            MapType.Queue or MapType.Stack => func is HelperId.MapPeekElem or HelperId.MapPopElem or HelperId.MapPushElem,
            MapType.BloomFilter => func is HelperId.MapPeekElem or HelperId.MapPushElem,
            _ => true,
        };
        if (!mapSide)
        {
            return false;
        }

        // The helper's side: some helpers want one kind of map.
        return func switch
        {
            HelperId.TailCall => type == MapType.ProgArray,
            HelperId.PerfEventOutput => type == MapType.PerfEventArray,
            HelperId.PerfEventRead or HelperId.PerfEventReadValue => type == MapType.PerfEventArray,
            HelperId.RingbufOutput or HelperId.RingbufReserve or HelperId.RingbufQuery => type == MapType.Ringbuf,
            HelperId.RedirectMap => type is MapType.Devmap or MapType.DevmapHash or MapType.Cpumap or MapType.Xskmap,
            HelperId.MapPopElem => type is MapType.Queue or MapType.Stack,
            HelperId.MapPeekElem or HelperId.MapPushElem => type is MapType.Queue or MapType.Stack or MapType.BloomFilter,
            HelperId.MapLookupPercpuElem => type is MapType.PercpuArray or MapType.PercpuHash or MapType.LruPercpuHash,
            _ => true,
        };
    }

    /// <summary>Faults with the kernel's message when <paramref name="map"/> may not be passed to <paramref name="func"/>.</summary>
    public static void Check(BpfMap map, HelperId func)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (!Allowed(map.Type, func))
        {
            Throw(map.Type, func);
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Throw(MapType type, HelperId func) =>
        throw new ExecutionFaultException(
            FaultKind.HelperFailed,
            $"cannot pass map_type {(uint)type} into func {HelperNames.Name((int)func)}#{(int)func}");
}
