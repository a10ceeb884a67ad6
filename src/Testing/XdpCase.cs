using System.Globalization;
using VethXdp.Testing.Model;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Xdp;

namespace VethXdp.Testing;

/// <summary>One generated frame and what the program did with it: the verdict, the bytes after the program, the redirect
/// target, the maps. A view valid while the check runs: <see cref="Input"/>, <see cref="Output"/> and
/// <see cref="Meta"/> point into buffers the next frame reuses.</summary>
public readonly struct XdpCase
{
    internal XdpCase(Frame frame, ReadOnlyMemory<byte> input, XdpResult result, XdpRunner runner)
    {
        Frame = frame;
        Input = input;
        Result = result;
        Runner = runner;
    }

    /// <summary>The frame's model.</summary>
    public Frame Frame { get; }

    /// <summary>The bytes the program was given.</summary>
    public ReadOnlyMemory<byte> Input { get; }

    /// <summary>The runner's result.</summary>
    public XdpResult Result { get; }

    /// <summary>The runner (its object, maps and environment).</summary>
    public XdpRunner Runner { get; }

    /// <summary>The verdict (<see cref="XdpAction.Unknown"/> with an error or another return value).</summary>
    public XdpAction Action => Result.Action;

    /// <summary>r0's low 32 bits.</summary>
    public uint Retval => Result.Retval;

    /// <summary>The frame after the program, from data to its end.</summary>
    public ReadOnlySpan<byte> Output => Result.Data.Span;

    /// <summary>The metadata after the program: [data_meta, data).</summary>
    public ReadOnlySpan<byte> Meta => Result.Meta.Span;

    /// <summary>The redirect target (XDP_REDIRECT only).</summary>
    public RedirectInfo? Redirect => Result.Redirect;

    /// <summary>Why there is no verdict: the frame was refused, or the program faulted.</summary>
    public XdpError? Error => Result.Error;

    /// <summary>True when the runner refused the frame before the program ran, as BPF_PROG_TEST_RUN would (shorter than
    /// 14 bytes, too long, an ingress device or queue that does not exist): not the program's fault.</summary>
    public bool Refused => Result.Error is { Insn: null } e
        && (Input.Length < XdpBuffer.EthHeaderLength || Input.Length > XdpBuffer.MaxFrameSize
            || e.Message.Contains("BPF_PROG_TEST_RUN refuses", StringComparison.Ordinal));

    /// <summary>True when the program faulted: an access outside its memory, a bad helper argument, the budget.</summary>
    public bool Faulted => Result.Error is not null && !Refused;

    /// <summary>The object's maps (after the run).</summary>
    public MapSet Maps => Runner.Object.Maps;

    /// <summary>"XDP_PASS", "XDP_REDIRECT to ifindex 5", "retval 7", or "fault: insn 28: ...".</summary>
    public string Summary
    {
        get
        {
            if (Result.Error is { } e)
            {
                return (Refused ? "refused: " : "fault: ") + e;
            }

            return Action switch
            {
                XdpAction.Unknown => string.Create(CultureInfo.InvariantCulture, $"retval {Retval} (not a verdict)"),
                XdpAction.Redirect when Redirect is { } r => $"XDP_REDIRECT ({r.KindName}{(r.Ifindex is { } i ? string.Create(CultureInfo.InvariantCulture, $" ifindex {i}") : string.Empty)}{(r.Map is null ? string.Empty : $" map {r.Map}")})",
                _ => XdpActions.KernelName(Action),
            };
        }
    }
}
