using System.Text.Json;
using VethXdp.Kernel;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;

namespace VethXdp.Kernel.Tests;

/// <summary>One record of a manifest run's <c>userRingbuf</c>: what user space writes into a user ring buffer before
/// the first frame, on both sides of a cross-check: a sample (reserved and submitted) or <see cref="Discard"/> bytes
/// reserved and discarded.</summary>
/// <param name="Map">The user_ringbuf map.</param>
/// <param name="Sample">The record's bytes, or null for a discarded record.</param>
/// <param name="Discard">A discarded record's length.</param>
public sealed record UserRingbufRecord(string Map, byte[]? Sample, uint Discard)
{
    /// <summary>Parses <c>{NAME: [{"sample": hex} | {"discard": N}, ...]}</c>.</summary>
    public static IReadOnlyList<UserRingbufRecord> ParseRun(JsonElement userRingbuf)
    {
        var list = new List<UserRingbufRecord>();
        foreach (var map in userRingbuf.EnumerateObject())
        {
            foreach (var r in map.Value.EnumerateArray())
            {
                list.Add(r.TryGetProperty("sample", out var sample)
                    ? new UserRingbufRecord(map.Name, Convert.FromHexString(sample.GetString()!), 0)
                    : new UserRingbufRecord(map.Name, null, r.GetProperty("discard").GetUInt32()));
            }
        }

        return list;
    }

    /// <summary>Writes <paramref name="records"/> in order into our map and into the kernel's.</summary>
    public static void Produce(IReadOnlyList<UserRingbufRecord> records, LoadedObject vm, KernelObject kernel)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(vm);
        ArgumentNullException.ThrowIfNull(kernel);
        foreach (var r in records)
        {
            var ours = (UserRingBufMap)vm.Maps[r.Map];
            var theirs = kernel.UserRingBuffer(r.Map);
            bool fitsOurs = r.Sample is null ? ours.ProduceDiscarded(r.Discard) : ours.Produce(r.Sample);
            bool fitsTheirs = r.Sample is null ? theirs.Discard(r.Discard) : theirs.Submit(r.Sample);
            if (!fitsOurs || !fitsTheirs)
            {
                throw new InvalidOperationException($"user ring buffer {r.Map}: a record does not fit (VM {fitsOurs}, kernel {fitsTheirs})");
            }
        }
    }
}
