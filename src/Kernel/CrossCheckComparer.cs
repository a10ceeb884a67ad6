using System.Globalization;
using System.Text;

namespace VethXdp.Kernel;

/// <summary>Compares what the kernel and our VM did with a packet, and what their maps hold: the cross-check's
/// judgement, without the kernel (so it can be tested on hand-made outcomes).</summary>
public static class CrossCheckComparer
{
    /// <summary>The differences between the kernel's and our outcome of packet <paramref name="index"/>: a refusal on
    /// one side only (or with different errors), the retval, the metadata length and the output bytes (data_meta to
    /// the end; bytes that <paramref name="skips"/> leave out, counted from data, are not compared).</summary>
    /// <param name="index">The packet's index.</param>
    /// <param name="kernel">The kernel's outcome.</param>
    /// <param name="ours">Our outcome.</param>
    /// <param name="skips">Fields left out; only <see cref="CrossCheckSkipField.Data"/> entries matter here.</param>
    public static IReadOnlyList<PacketDisagreement> ComparePacket(int index, CrossCheckOutcome kernel, CrossCheckOutcome ours, IReadOnlyList<CrossCheckSkip>? skips = null)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(ours);
        var list = new List<PacketDisagreement>();
        if (kernel.Error is not null || ours.Error is not null)
        {
            if (kernel.Error is null)
            {
                list.Add(new(index, PacketField.Refusal, $"the kernel ran it (retval {kernel.Retval}), we did not: {ours.Error}"));
            }
            else if (ours.Error is null)
            {
                list.Add(new(index, PacketField.Refusal, $"the kernel refused it ({kernel.Error}), we ran it (retval {ours.Retval})"));
            }
            else if (kernel.Errno != ours.Errno)
            {
                list.Add(new(index, PacketField.Refusal, $"both refused it, differently: kernel {kernel.Error}; ours {ours.Error}"));
            }

            return list;
        }

        if (kernel.Retval != ours.Retval)
        {
            list.Add(new(index, PacketField.Retval, $"retval: kernel {Verdict(kernel.Retval)}, ours {Verdict(ours.Retval)}"));
        }

        byte[] k = Masked(kernel, index, skips);
        byte[] o = Masked(ours, index, skips);
        if (kernel.MetaLength != ours.MetaLength || !k.AsSpan().SequenceEqual(o))
        {
            list.Add(new(index, PacketField.Bytes, HexDiff(k, o, kernel.MetaLength, ours.MetaLength)));
        }

        return list;
    }

    /// <summary>The differences between the kernel's maps and ours: maps present on one side only, entries present
    /// on one side only, values that differ (per-CPU values CPU by CPU), queue and stack contents element by element.</summary>
    /// <param name="kernel">The kernel's maps.</param>
    /// <param name="ours">Our maps.</param>
    /// <param name="packet">The packet after which they were dumped, or null for the end of the run.</param>
    /// <param name="maxPerMap">At most this many differences per map; the rest are counted in one more line.</param>
    public static IReadOnlyList<MapDisagreement> CompareMaps(IReadOnlyList<CrossCheckMapDump> kernel, IReadOnlyList<CrossCheckMapDump> ours, int? packet = null, int maxPerMap = 16)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(ours);
        var list = new List<MapDisagreement>();
        var byName = new Dictionary<string, CrossCheckMapDump>(StringComparer.Ordinal);
        foreach (var m in ours)
        {
            byName[m.Name] = m;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var k in kernel)
        {
            seen.Add(k.Name);
            if (!byName.TryGetValue(k.Name, out var o))
            {
                list.Add(new(packet, k.Name, null, "the kernel has this map, we do not"));
                continue;
            }

            var found = k.Ordered || o.Ordered ? CompareOrdered(k, o, packet) : CompareKeyed(k, o, packet);
            if (found.Count > maxPerMap)
            {
                int more = found.Count - maxPerMap;
                found = found.Take(maxPerMap).ToList();
                found.Add(new(packet, k.Name, null, string.Create(CultureInfo.InvariantCulture, $"and {more} more difference(s)")));
            }

            list.AddRange(found);
        }

        foreach (var o in ours)
        {
            if (!seen.Contains(o.Name))
            {
                list.Add(new(packet, o.Name, null, "we have this map, the kernel does not"));
            }
        }

        return list;
    }

    /// <summary>A hex view of two outputs from their first difference: the lengths, where metadata ends, the first
    /// differing offset (from data_meta, and from data), how many bytes differ, and 32 bytes of each side around it
    /// with the differing bytes marked.</summary>
    /// <param name="kernel">The kernel's bytes (metadata, then data).</param>
    /// <param name="ours">Ours.</param>
    /// <param name="kernelMeta">Bytes of metadata in <paramref name="kernel"/>.</param>
    /// <param name="oursMeta">Bytes of metadata in <paramref name="ours"/>.</param>
    public static string HexDiff(ReadOnlySpan<byte> kernel, ReadOnlySpan<byte> ours, int kernelMeta = 0, int oursMeta = 0)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"output bytes differ: kernel {kernel.Length} bytes (meta {kernelMeta}), ours {ours.Length} bytes (meta {oursMeta})");
        int common = Math.Min(kernel.Length, ours.Length);
        int first = -1, count = 0;
        for (int i = 0; i < common; i++)
        {
            if (kernel[i] != ours[i])
            {
                count++;
                if (first < 0)
                {
                    first = i;
                }
            }
        }

        if (first < 0)
        {
            if (kernelMeta != oursMeta)
            {
                sb.Append("; the bytes are the same but metadata ends at a different place");
            }

            if (kernel.Length == ours.Length)
            {
                return sb.ToString();
            }

            sb.Append(CultureInfo.InvariantCulture, $"; the first {common} bytes are the same");
            first = common;
        }
        else
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"; first difference at offset {first} (0x{first:x}; data+{first - kernelMeta}), {count} differing byte(s) in the common {common}");
        }

        int row = first & ~15;
        sb.AppendLine();
        AppendRows(sb, "kernel", kernel, ours, row);
        sb.AppendLine();
        AppendRows(sb, "ours  ", ours, kernel, row);
        return sb.ToString();
    }

    private static void AppendRows(StringBuilder sb, string who, ReadOnlySpan<byte> mine, ReadOnlySpan<byte> other, int from)
    {
        var marks = new StringBuilder();
        for (int r = from; r < from + 32 && r < Math.Max(mine.Length, other.Length); r += 16)
        {
            if (r > from)
            {
                sb.AppendLine();
            }

            sb.Append(CultureInfo.InvariantCulture, $"  {who} {r:x4}:");
            marks.Clear();
            for (int i = r; i < r + 16; i++)
            {
                if (i < mine.Length)
                {
                    sb.Append(CultureInfo.InvariantCulture, $" {mine[i]:x2}");
                    marks.Append(i >= other.Length || other[i] != mine[i] ? " ^^" : "   ");
                }
                else
                {
                    sb.Append(" ..");
                    marks.Append(i < other.Length ? " ^^" : "   ");
                }
            }

            if (marks.ToString().Contains('^', StringComparison.Ordinal))
            {
                sb.AppendLine().Append("  ").Append(' ', who.Length + 6).Append(marks.ToString().TrimEnd());
            }
        }
    }

    private static string Verdict(uint? retval) => retval switch
    {
        0 => "0 (XDP_ABORTED)",
        1 => "1 (XDP_DROP)",
        2 => "2 (XDP_PASS)",
        3 => "3 (XDP_TX)",
        4 => "4 (XDP_REDIRECT)",
        null => "none",
        _ => retval.Value.ToString(CultureInfo.InvariantCulture),
    };

    // The output with the bytes the skips leave out (counted from data) zeroed on this side.
    private static byte[] Masked(CrossCheckOutcome outcome, int index, IReadOnlyList<CrossCheckSkip>? skips)
    {
        byte[] bytes = outcome.Output;
        if (skips is null)
        {
            return bytes;
        }

        byte[]? copy = null;
        foreach (var s in skips)
        {
            if (s.Field != CrossCheckSkipField.Data || !s.AppliesTo(index) || s.Start is not int a || s.End is not int b)
            {
                continue;
            }

            copy ??= (byte[])bytes.Clone();
            int from = Math.Min(outcome.MetaLength + a, copy.Length);
            int to = Math.Min(outcome.MetaLength + b, copy.Length);
            copy.AsSpan(from, to - from).Clear();
        }

        return copy ?? bytes;
    }

    private static List<MapDisagreement> CompareKeyed(CrossCheckMapDump kernel, CrossCheckMapDump ours, int? packet)
    {
        var list = new List<MapDisagreement>();
        var mine = new Dictionary<string, CrossCheckMapEntry>(StringComparer.Ordinal);
        foreach (var e in ours.Entries)
        {
            mine[e.Key] = e;
        }

        var keys = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var e in kernel.Entries)
        {
            keys.Add(e.Key);
            if (!mine.TryGetValue(e.Key, out var o))
            {
                list.Add(new(packet, kernel.Name, e.Key, $"the kernel has it ({e.ValueText}), we do not"));
            }
            else if (DescribeValueDifference(e, o) is { } d)
            {
                list.Add(new(packet, kernel.Name, e.Key, d));
            }
        }

        foreach (var o in ours.Entries)
        {
            if (!keys.Contains(o.Key))
            {
                list.Add(new(packet, kernel.Name, o.Key, $"we have it ({o.ValueText}), the kernel does not"));
            }
        }

        list.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return list;
    }

    private static List<MapDisagreement> CompareOrdered(CrossCheckMapDump kernel, CrossCheckMapDump ours, int? packet)
    {
        var list = new List<MapDisagreement>();
        if (kernel.Entries.Count != ours.Entries.Count)
        {
            list.Add(new(packet, kernel.Name, null, string.Create(CultureInfo.InvariantCulture,
                $"the kernel holds {kernel.Entries.Count} value(s), we hold {ours.Entries.Count}")));
        }

        int n = Math.Max(kernel.Entries.Count, ours.Entries.Count);
        for (int i = 0; i < n; i++)
        {
            string key = string.Create(CultureInfo.InvariantCulture, $"#{i}");
            string k = i < kernel.Entries.Count ? kernel.Entries[i].ValueText : "(none)";
            string o = i < ours.Entries.Count ? ours.Entries[i].ValueText : "(none)";
            if (k != o)
            {
                list.Add(new(packet, kernel.Name, key, $"kernel {k}, ours {o} (in pop order)"));
            }
        }

        return list;
    }

    private static string? DescribeValueDifference(CrossCheckMapEntry kernel, CrossCheckMapEntry ours)
    {
        if (kernel.Values.SequenceEqual(ours.Values, StringComparer.Ordinal))
        {
            return null;
        }

        if (kernel.Values.Count == 1 && ours.Values.Count == 1)
        {
            return $"kernel {kernel.Values[0]}, ours {ours.Values[0]}{FirstDifference(kernel.Values[0], ours.Values[0])}";
        }

        if (kernel.Values.Count != ours.Values.Count)
        {
            return string.Create(CultureInfo.InvariantCulture, $"kernel {kernel.Values.Count} per-CPU value(s), ours {ours.Values.Count}");
        }

        var sb = new StringBuilder();
        for (int cpu = 0; cpu < kernel.Values.Count; cpu++)
        {
            if (kernel.Values[cpu] != ours.Values[cpu])
            {
                if (sb.Length > 0)
                {
                    sb.Append("; ");
                }

                sb.Append(CultureInfo.InvariantCulture, $"cpu {cpu}: kernel {kernel.Values[cpu]}, ours {ours.Values[cpu]}{FirstDifference(kernel.Values[cpu], ours.Values[cpu])}");
            }
        }

        return sb.ToString();
    }

    private static bool IsHex(string text)
    {
        foreach (char c in text)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f') or '-'))
            {
                return false;
            }
        }

        return true;
    }

    // " (first difference at value byte N)" for two hex strings of the same length.
    private static string FirstDifference(string kernel, string ours)
    {
        if (kernel.Length != ours.Length || kernel.Length % 2 != 0 || !IsHex(kernel) || !IsHex(ours))
        {
            return "";
        }

        for (int i = 0; i < kernel.Length; i += 2)
        {
            if (kernel[i] != ours[i] || kernel[i + 1] != ours[i + 1])
            {
                return string.Create(CultureInfo.InvariantCulture, $" (first difference at value byte {i / 2})");
            }
        }

        return "";
    }
}
