using VethXdp.Vm.Helpers;

namespace VethXdp.Vm.Runtime;

/// <summary>What one frame did: the verdict, the redirect target, the bytes after the program, what it printed and
/// emitted, or why it has no verdict.</summary>
/// <remarks>A value the runner reuses: <see cref="Meta"/>, <see cref="Data"/>, <see cref="Trace"/> and
/// <see cref="Events"/> are views into its buffers, valid until its next <see cref="XdpRunner.Run"/>. Copy them to keep them.</remarks>
public readonly struct XdpResult
{
    internal XdpResult(
        long packet,
        uint retval,
        RedirectInfo? redirect,
        ReadOnlyMemory<byte> meta,
        ReadOnlyMemory<byte> data,
        TraceLog trace,
        EventLog events,
        XdpError? error,
        long instructions)
    {
        Packet = packet;
        Retval = retval;
        Redirect = redirect;
        Meta = meta;
        Data = data;
        Trace = trace;
        Events = events;
        Error = error;
        InstructionsExecuted = instructions;
    }

    /// <summary>The frame's index in the run, from 0.</summary>
    public long Packet { get; }

    /// <summary>The program's return value as BPF_PROG_TEST_RUN reports it: r0's low 32 bits. 0 with an error.</summary>
    public uint Retval { get; }

    /// <summary>The verdict (<see cref="XdpAction.Unknown"/> for other return values, and with an error).</summary>
    public XdpAction Action => Error is null ? XdpActions.FromRetval(Retval) : XdpAction.Unknown;

    /// <summary>The redirect target when the verdict is XDP_REDIRECT; null otherwise.</summary>
    public RedirectInfo? Redirect { get; }

    /// <summary>The metadata after the program: [data_meta, data).</summary>
    public ReadOnlyMemory<byte> Meta { get; }

    /// <summary>The frame after the program: from data to its end (fragments included). BPF_PROG_TEST_RUN's data_out is
    /// <see cref="Meta"/> followed by this.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The trace_printk messages, in order.</summary>
    public IReadOnlyList<string> Trace { get; }

    /// <summary>The ring buffer and perf event records, in order.</summary>
    public IReadOnlyList<BpfEvent> Events { get; }

    /// <summary>Why the frame has no verdict (refused, or a fault); null when it has one.</summary>
    public XdpError? Error { get; }

    /// <summary>Instructions executed (tail-called programs and callbacks included).</summary>
    public long InstructionsExecuted { get; }
}
