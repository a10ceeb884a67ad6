using System.Globalization;
using System.Text;

namespace VethXdp.Kernel;

/// <summary>What a cross-check found: every packet and map where our VM and the running kernel disagree, what could
/// not be compared (and why), and the outcome of each packet on both sides.</summary>
public sealed class CrossCheckReport
{
    /// <summary>Creates a report.</summary>
    /// <param name="program">The program that ran.</param>
    /// <param name="packets">Each packet's outcome on both sides, in order.</param>
    /// <param name="packetDisagreements">The packets where the two sides disagree.</param>
    /// <param name="mapDisagreements">The maps where they disagree (after a packet, or at the end).</param>
    /// <param name="notCompared">What was left out, each with its reason.</param>
    /// <param name="kernelRefusal">Why the kernel refused the object or program (then nothing ran), or null.</param>
    /// <param name="vmRefusal">Why our VM refused the object or program, or null.</param>
    public CrossCheckReport(
        string program,
        IReadOnlyList<CrossCheckPacket> packets,
        IReadOnlyList<PacketDisagreement> packetDisagreements,
        IReadOnlyList<MapDisagreement> mapDisagreements,
        IReadOnlyList<string> notCompared,
        string? kernelRefusal,
        string? vmRefusal)
    {
        Program = program;
        Packets = packets;
        PacketDisagreements = packetDisagreements;
        MapDisagreements = mapDisagreements;
        NotCompared = notCompared;
        KernelRefusal = kernelRefusal;
        VmRefusal = vmRefusal;
    }

    /// <summary>The program that ran.</summary>
    public string Program { get; }

    /// <summary>Each packet's outcome on both sides, in order (empty when either side refused the load).</summary>
    public IReadOnlyList<CrossCheckPacket> Packets { get; }

    /// <summary>The packets where the two sides disagree (retval, refusal, output bytes, events), in packet order.</summary>
    public IReadOnlyList<PacketDisagreement> PacketDisagreements { get; }

    /// <summary>The map entries where the two sides disagree.</summary>
    public IReadOnlyList<MapDisagreement> MapDisagreements { get; }

    /// <summary>What was not compared, each with its reason ("map \"sampler_stats\": ..."), never silently.</summary>
    public IReadOnlyList<string> NotCompared { get; }

    /// <summary>Why the kernel refused to load the object or the program, or null when it loaded.</summary>
    public string? KernelRefusal { get; }

    /// <summary>Why our VM refused to load the object or the program, or null when it loaded.</summary>
    public string? VmRefusal { get; }

    /// <summary>True when both sides loaded and agree on every packet and every map, or both refused the load.</summary>
    public bool Agrees => PacketDisagreements.Count == 0 && MapDisagreements.Count == 0 && (KernelRefusal is null) == (VmRefusal is null);

    /// <summary>A human-readable account: one line of totals, then every disagreement and what was not compared.</summary>
    public string Summary
    {
        get
        {
            var sb = new StringBuilder();
            if (KernelRefusal is not null || VmRefusal is not null)
            {
                sb.Append(CultureInfo.InvariantCulture, $"{Program}: ");
                sb.Append(KernelRefusal is null ? "the kernel loads it" : $"the kernel refuses it: {KernelRefusal}");
                sb.Append("; ");
                sb.Append(VmRefusal is null ? "we load it" : $"we refuse it: {VmRefusal}");
                sb.AppendLine(Agrees ? " (both refuse: agree)" : " (DISAGREE)");
            }
            else
            {
                int bad = CountDisagreeingPackets();
                sb.AppendLine(CultureInfo.InvariantCulture,
                    $"{Program}: {Packets.Count} packet(s), {Packets.Count - bad} agree, {bad} disagree; {MapDisagreements.Count} map difference(s){(Agrees ? ": AGREE" : ": DISAGREE")}");
            }

            foreach (var d in PacketDisagreements)
            {
                sb.AppendLine(d.ToString());
            }

            foreach (var d in MapDisagreements)
            {
                sb.AppendLine(d.ToString());
            }

            foreach (string n in NotCompared)
            {
                sb.Append("not compared: ").AppendLine(n);
            }

            return sb.ToString().TrimEnd();
        }
    }

    /// <inheritdoc/>
    public override string ToString() => Summary;

    private int CountDisagreeingPackets()
    {
        var seen = new HashSet<int>();
        foreach (var d in PacketDisagreements)
        {
            seen.Add(d.Packet);
        }

        return seen.Count;
    }
}
