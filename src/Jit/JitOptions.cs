namespace VethXdp.Jit;

/// <summary>What the JIT compiler does besides compiling.</summary>
public sealed record JitOptions
{
    /// <summary>The options used when none are given.</summary>
    public static JitOptions Default { get; } = new();

    /// <summary>When set, the IL of every compiled method is written here, each eBPF instruction (in the kernel's
    /// syntax) before the IL it became (<c>vethxdp exec --dump-il</c>).</summary>
    public TextWriter? DumpIl { get; init; }
}
