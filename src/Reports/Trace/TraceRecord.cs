namespace VethXdp.Reports.Trace;

/// <summary>One executed instruction.</summary>
public sealed record TraceRecord
{
    /// <summary>Its number in the run, from 1 (the order instructions started in).</summary>
    public required long Step { get; init; }

    /// <summary>Which run of the interpreter it belongs to, from 0: the packet's run is the last; BPF timer callbacks
    /// that fired before the packet run before it (each its own run).</summary>
    public int Run { get; init; }

    /// <summary>The program it belongs to (differs from the traced one after a tail call).</summary>
    public required string Program { get; init; }

    /// <summary>Its slot.</summary>
    public required int Insn { get; init; }

    /// <summary>The call frame: 0 in the main function, one more per BPF-to-BPF call or callback.</summary>
    public required int Frame { get; init; }

    /// <summary>The function it belongs to, when known.</summary>
    public string? Function { get; init; }

    /// <summary>Its text (kernel syntax; maps and functions by name).</summary>
    public required string Text { get; init; }

    /// <summary>"file.c:22" (BTF line_info), or null.</summary>
    public string? Line { get; init; }

    /// <summary>The source text of <see cref="Line"/>, or null.</summary>
    public string? Source { get; init; }

    /// <summary>The registers it changed, in register order.</summary>
    public required IReadOnlyList<TraceRegisterChange> Registers { get; init; }

    /// <summary>The memory it read or wrote itself.</summary>
    public required IReadOnlyList<TraceMemoryAccess> Memory { get; init; }

    /// <summary>The call or return it made, or null.</summary>
    public TraceCall? Call { get; init; }

    /// <summary>For a conditional jump: whether it jumped; null otherwise.</summary>
    public bool? Taken { get; init; }

    /// <summary>The slot its frame runs next (-1 after the last exit).</summary>
    public required int Next { get; init; }
}
