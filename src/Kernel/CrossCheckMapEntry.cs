namespace VethXdp.Kernel;

/// <summary>One entry of a <see cref="CrossCheckMapDump"/>.</summary>
/// <param name="Key">The key as lowercase hex ("#N" for the Nth value of a queue or stack).</param>
/// <param name="Values">The value: one string, or one per CPU for per-CPU maps.</param>
public sealed record CrossCheckMapEntry(string Key, IReadOnlyList<string> Values)
{
    /// <summary>The value as a report shows it.</summary>
    public string ValueText => Values.Count == 1 ? Values[0] : "[" + string.Join(", ", Values) + "]";
}
